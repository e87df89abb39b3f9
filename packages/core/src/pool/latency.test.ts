import { describe, expect, it } from 'vitest';
import { LatencyRecorder, summarize } from './latency.js';

describe('latency percentiles', () => {
  it('uses nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(summarize(values)).toEqual({ count: 100, p50: 50, p95: 95, p99: 99, max: 100 });
    expect(summarize([7])).toEqual({ count: 1, p50: 7, p95: 7, p99: 7, max: 7 });
    expect(summarize([])).toEqual({ count: 0, p50: 0, p95: 0, p99: 0, max: 0 });
  });

  it('keeps only the most recent samples', () => {
    const r = new LatencyRecorder(3);
    for (const v of [100, 1, 2, 3]) r.record(v);
    expect(r.summary().max).toBe(3);
    expect(r.summary().count).toBe(3);
  });
});
