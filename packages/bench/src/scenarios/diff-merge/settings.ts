import type { BenchContext } from '../../types.js';

/**
 * Settings of the diff and merge scenarios, from the environment (defaults in brackets):
 * - PGBRANCH_BENCH_DIFF_MB: generated snapshot sizes in MB, comma-separated [70,1000]; a quick check: 70,200
 * - PGBRANCH_BENCH_DIFF_PERCENT: changed fractions of the rows, in % [0.1,1,10]
 * - PGBRANCH_BENCH_MERGE_MB: sizes for the merge scenario [PGBRANCH_BENCH_DIFF_MB]
 * - PGBRANCH_BENCH_MERGE_PERCENT: rows changed on each side before a merge, in % [1]
 * - PGBRANCH_BENCH_ROUNDS: samples per method [quick: 5 up to 100 MB, else 3; full: 10, else 5]
 */
export interface DiffMergeSettings {
  diffSizes: number[];
  diffPercents: number[];
  mergeSizes: number[];
  mergePercent: number;
  rounds(mb: number): number;
}

export function diffMergeSettings(ctx: BenchContext, env: NodeJS.ProcessEnv = process.env): DiffMergeSettings {
  const diffSizes = numbers(env, 'PGBRANCH_BENCH_DIFF_MB', [70, 1000]);
  const fixed = env.PGBRANCH_BENCH_ROUNDS ? numbers(env, 'PGBRANCH_BENCH_ROUNDS', [])[0] : undefined;
  return {
    diffSizes,
    diffPercents: numbers(env, 'PGBRANCH_BENCH_DIFF_PERCENT', [0.1, 1, 10]),
    mergeSizes: numbers(env, 'PGBRANCH_BENCH_MERGE_MB', diffSizes),
    mergePercent: numbers(env, 'PGBRANCH_BENCH_MERGE_PERCENT', [1])[0]!,
    rounds: (mb) => fixed ?? (mb <= 100 ? (ctx.full ? 10 : 5) : ctx.full ? 5 : 3),
  };
}

/** "70 MB", "1 GB", "1.5 GB". */
export function sizeLabel(mb: number): string {
  return mb >= 1000 ? `${mb / 1000} GB` : `${mb} MB`;
}

/** "840 ms", "4.2 ms", "12.34 s". */
export function formatMs(v: number): string {
  return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v < 10 ? 1 : 0)} ms`;
}

function numbers(env: NodeJS.ProcessEnv, name: string, fallback: number[]): number[] {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const values = raw.split(',').map((v) => Number(v.trim()));
  if (values.some((v) => !Number.isFinite(v) || v <= 0)) throw new Error(`${name}=${raw}: expected positive numbers separated by commas`);
  return values;
}
