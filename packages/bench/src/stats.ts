import { summarize } from '@pgbranch/core/runner';
import type { MethodResult } from './types.js';

/** A measured method with its summary computed from the raw samples. */
export function methodResult(method: string, samples: number[], extra: Omit<Partial<MethodResult>, 'samples' | 'summary'> = {}): MethodResult {
  return { method, unit: 'ms', ...extra, samples, summary: summarize(samples) };
}

