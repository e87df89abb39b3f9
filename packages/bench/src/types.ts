import type { LatencySummary } from '@pgbranch/core';

/** One method measured in a scenario (for one group, e.g. a snapshot size or a concurrency). */
export interface MethodResult {
  /** e.g. "pgbranch local btrfs", "CREATE DATABASE … STRATEGY FILE_COPY", "Testcontainers fresh container". */
  method: string;
  /** Optional grouping value, e.g. "70 MB" or "4 acquirers"; `x` is its number for line charts. */
  group?: string;
  x?: number;
  unit: 'ms' | 'bytes' | 'MB' | 'branches/s';
  /** Raw values in `unit`, as measured (methods timed by tinybench: sorted within each round, rounds in run order). */
  samples: number[];
  summary: LatencySummary;
  /** How the method was configured. */
  note?: string;
}

/** A labelled figure from the reference documents, printed beside ours (never mixed into ratios). */
export interface ReferenceFigure {
  operation: string;
  value: string;
  source: string;
}

export interface ChartSpec {
  /** distribution: one row per method (strip + box of samples); line: one series per method over `x`. */
  kind: 'distribution' | 'line';
  title: string;
  /** File name inside the run directory, e.g. "branch-creation.svg". */
  file: string;
  xLabel?: string;
  yLabel: string;
  /** Which results to draw (default: all of the scenario's). */
  methods?: string[];
  /** Which groups to draw (default: all). */
  groups?: string[];
  /** Log scale on the value axis (distributions spanning ms to seconds). */
  log?: boolean;
}

export interface ScenarioResult {
  id: string;
  title: string;
  status: 'ok' | 'not available' | 'failed';
  /** Why it is not available or failed. */
  reason?: string;
  results: MethodResult[];
  reference?: ReferenceFigure[];
  charts: ChartSpec[];
  /** A summary table printed after the results (one row per configuration: medians, ratios, checks). */
  table?: { columns: string[]; rows: string[][] };
  /** Free-form lines: configuration, caveats, what a ratio compares. */
  notes?: string[];
  durationMs?: number;
}

export interface BenchContext {
  full: boolean;
  /** Repository root (fixtures, bench recipes). */
  root: string;
  /** Iterations for latency loops (quick: small; full: more). */
  iterations: number;
  /** Iterations for methods that cost seconds per sample (containers, WASM, initdb + load). */
  slowIterations: number;
  /** Scratch space on the work disk. */
  workDir: string;
  /** Mounted copy-on-write filesystems, when present. */
  reflinkDir?: string;
  btrfsDir?: string;
  docker: { available: boolean; reason?: string; image: string };
  progress(message: string): void;
}

export interface Scenario {
  id: string;
  title: string;
  run(ctx: BenchContext): Promise<ScenarioResult>;
}
