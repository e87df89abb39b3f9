import { summarize } from '@pgbranch/core/runner';
import type { MethodResult } from './types.js';

/** A measured method with its summary computed from the raw samples. */
export function methodResult(method: string, samples: number[], extra: Omit<Partial<MethodResult>, 'samples' | 'summary'> = {}): MethodResult {
  return { method, unit: 'ms', ...extra, samples, summary: summarize(samples) };
}


/** The median (the mean of the middle two for an even count), for ratios of methods measured in the same run. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
