import { describe, expect, it } from 'vitest';
import { formatOverhead, overheadLine, perFileOverhead } from './overhead.js';

describe('per-file overhead', () => {
  it('is the median of the same-round differences divided by the files', () => {
    // Rounds 1–3: the machine slowed down in round 2 for both; the paired differences are 100, 100, 40 ms/file.
    expect(perFileOverhead([6000, 9000, 5000], [4400, 7400, 4360], 16)).toBe(100);
    expect(perFileOverhead([4000], [4400], 16)).toBe(-25);
    expect(perFileOverhead([6000, 7000], [4000, 4000], 10)).toBe(250);
    expect(perFileOverhead([6000], undefined, 16)).toBeUndefined();
    expect(perFileOverhead([6000], [], 16)).toBeUndefined();
  });

  it('pairs only the rounds both have', () => {
    expect(perFileOverhead([5000, 6000, 7000], [4000, 4000], 10)).toBe(150);
  });

  it('gives the median wall time and the overheads over the floor and over no database', () => {
    expect(overheadLine([9000, 5000, 6000], 10, { floor: [8000, 4000, 4000], none: [7000, 3000, 3000] })).toEqual({ p50: 6000, overFloor: 100, overNone: 200 });
    expect(overheadLine([5000], 10, {})).toEqual({ p50: 5000, overFloor: undefined, overNone: undefined });
  });

  it('formats signed whole milliseconds per file', () => {
    expect(formatOverhead(12.4)).toBe('+12 ms/file');
    expect(formatOverhead(-3.6)).toBe('−4 ms/file');
    expect(formatOverhead(undefined)).toBe('n/a');
  });
});
