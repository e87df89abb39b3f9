import { describe, expect, it } from 'vitest';
import { formatOverhead, overheadLine, perFileOverhead } from './overhead.js';

describe('per-file overhead', () => {
  it('is the difference of the medians divided by the files', () => {
    expect(perFileOverhead(6000, 4400, 16)).toBe(100);
    expect(perFileOverhead(4000, 4400, 16)).toBe(-25);
    expect(perFileOverhead(6000, undefined, 16)).toBeUndefined();
  });

  it('takes the median of the runs, against the floor and no database', () => {
    expect(overheadLine([9000, 5000, 6000], 10, { floorP50: 4000, noneP50: 3000 })).toEqual({ p50: 6000, overFloor: 200, overNone: 300 });
    expect(overheadLine([5000], 10, {})).toEqual({ p50: 5000, overFloor: undefined, overNone: undefined });
  });

  it('formats signed whole milliseconds per file', () => {
    expect(formatOverhead(12.4)).toBe('+12 ms/file');
    expect(formatOverhead(-3.6)).toBe('−4 ms/file');
    expect(formatOverhead(undefined)).toBe('n/a');
  });
});
