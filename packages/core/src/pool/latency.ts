/** Percentiles of recorded durations, in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Keeps the most recent samples (bounded) and summarises them as percentiles. */
export class LatencyRecorder {
  private samples: number[] = [];

  constructor(private readonly limit = 10_000) {}

  record(ms: number): void {
    this.samples.push(ms);
    if (this.samples.length > this.limit) this.samples.splice(0, this.samples.length - this.limit);
  }

  summary(): LatencySummary {
    return summarize(this.samples);
  }
}

/** Nearest-rank percentiles; zeros for an empty set. */
export function summarize(values: readonly number[]): LatencySummary {
  if (values.length === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  return { count: sorted.length, p50: at(50), p95: at(95), p99: at(99), max: sorted.at(-1)! };
}
