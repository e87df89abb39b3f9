import type { Branch, NamedBranches } from '@pgbranch/core';

/** The part of a diff (`DatabaseDiff`) the scenarios read. */
export interface DiffSummary {
  schema: unknown[];
  tables: Array<{ table: string; inserted: number; updated: number; deleted: number; compared: string; reason?: string }>;
  stats: { tables: number; pagesRead: number; pagesChanged: number; rowVersions: number; durationMs: number };
}

/** The part of a `MergeResult` the scenarios read. */
export interface MergeSummary {
  kind: 'fast-forward' | 'three-way' | 'up-to-date';
  tables: Array<{ table: string; inserted: number; updated: number; deleted: number }>;
  conflicts: unknown[];
}

type WithDiff = { diff(options?: { rows?: number }): Promise<DiffSummary> };
type WithMerge = { merge(source: string, target: string, options?: { strategy?: 'ours' | 'theirs'; dryRun?: boolean }): Promise<MergeSummary> };

/** `branch.diff()`: what the branch changed since its snapshot. */
export function branchDiff(branch: Branch): Promise<DiffSummary> {
  const diff = (branch as unknown as Partial<WithDiff>).diff;
  if (typeof diff !== 'function') throw new Error('this build of @pgbranch/core has no Branch.diff()');
  return diff.call(branch);
}

/** `engine.named().merge(source, target)`. */
export function namedMerge(named: NamedBranches, source: string, target: string): Promise<MergeSummary> {
  const merge = (named as unknown as Partial<WithMerge>).merge;
  if (typeof merge !== 'function') throw new Error('this build of @pgbranch/core has no named merge()');
  return merge.call(named, source, target);
}
