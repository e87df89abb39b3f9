import { summarize } from '@pgbranch/core/runner';
import { median } from '../../stats.js';

/**
 * What a per-file overhead is measured against, as the reference's timed runs in round order: the floor (a shared
 * database, no copy) and no database at all.
 */
export interface References {
  floor?: number[];
  none?: number[];
}

/**
 * Median over the rounds of (this mode's wall − the reference's wall in the same round) ÷ files, in ms per file;
 * undefined without a reference. Modes alternate round by round, so a pair ran seconds apart: on a machine whose
 * speed drifts, the paired differences are steadier than a difference of two medians. Rounds one of the two lacks
 * are left out.
 */
export function perFileOverhead(samples: number[], reference: number[] | undefined, files: number): number | undefined {
  if (!reference?.length) return undefined;
  const pairs = Math.min(samples.length, reference.length);
  if (pairs === 0) return undefined;
  const differences = Array.from({ length: pairs }, (_, i) => (samples[i]! - reference[i]!) / files);
  return median(differences);
}

/** "+12 ms/file" (signed, whole ms), or "n/a" without a reference. */
export function formatOverhead(ms: number | undefined): string {
  if (ms === undefined) return 'n/a';
  const rounded = Math.round(ms);
  return `${rounded < 0 ? '−' : '+'}${Math.abs(rounded)} ms/file`;
}

/** One mode in one suite shape: wall p50 and its per-file overheads over the floor and over no database. */
export function overheadLine(samples: number[], files: number, refs: References): { p50: number; overFloor?: number; overNone?: number } {
  return { p50: summarize(samples).p50, overFloor: perFileOverhead(samples, refs.floor, files), overNone: perFileOverhead(samples, refs.none, files) };
}
