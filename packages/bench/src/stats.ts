import { summarize } from '@pgbranch/core/runner';
import type { MethodResult } from './types.js';

/** A measured method with its summary computed from the raw samples. */
export function methodResult(method: string, samples: number[], extra: Omit<Partial<MethodResult>, 'samples' | 'summary'> = {}): MethodResult {
  return { method, unit: 'ms', ...extra, samples, summary: summarize(samples) };
}

/** Times `fn` `n` times after one warm-up call; returns milliseconds. */
export async function sample(n: number, fn: () => Promise<void>): Promise<number[]> {
  await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}
