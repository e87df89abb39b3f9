import { summarize } from '@pgbranch/core/runner';

/** What a per-file overhead is measured against: the floor (a shared database, no copy) and no database at all. */
export interface References {
  floorP50?: number;
  noneP50?: number;
}

/** (median wall − reference's median wall) ÷ files, in ms per file; undefined without a reference. */
export function perFileOverhead(p50: number, reference: number | undefined, files: number): number | undefined {
  return reference === undefined ? undefined : (p50 - reference) / files;
}

/** "+12 ms/file" (signed, whole ms), or "n/a" without a reference. */
export function formatOverhead(ms: number | undefined): string {
  if (ms === undefined) return 'n/a';
  const rounded = Math.round(ms);
  return `${rounded < 0 ? '−' : '+'}${Math.abs(rounded)} ms/file`;
}

/** One mode in one suite shape: wall p50 and its per-file overheads over the floor and over no database. */
export function overheadLine(samples: number[], files: number, refs: References): { p50: number; overFloor?: number; overNone?: number } {
  const p50 = summarize(samples).p50;
  return { p50, overFloor: perFileOverhead(p50, refs.floorP50, files), overNone: perFileOverhead(p50, refs.noneP50, files) };
}
