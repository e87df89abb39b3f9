import { describe, expect, it } from 'vitest';
import { failureOf } from './suite.js';

describe('failureOf', () => {
  it("keeps vitest's error lines on one line", () => {
    const output = ' RUN  v4.1.12\n\n FAIL  generated/f003.test.ts\nError: connect ECONNREFUSED 127.0.0.1:5432\n   at x\n Test Files  1 failed | 15 passed (16)\n';
    expect(failureOf(output)).toBe('FAIL  generated/f003.test.ts / Error: connect ECONNREFUSED 127.0.0.1:5432');
  });

  it('falls back to the last lines', () => {
    expect(failureOf('a\nb\n\nc\n')).toBe('a / b / c');
  });
});
