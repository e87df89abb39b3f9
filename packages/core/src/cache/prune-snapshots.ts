import { removeDir } from '../cloners/remove-dir.js';
import { diskUsage } from './disk-usage.js';
import type { CacheLayout } from './layout.js';
import { imagesToPrune, type PrunePolicy } from './prune-policy.js';
import type { StoredSnapshot } from '../snapshot/stored-snapshot.js';

/**
 * Removes local snapshots beyond the newest `policy.keep` or older than `policy.maxAgeDays` (the same policy
 * as Docker snapshot images), except those in `keep` (parents of named branches). A removed snapshot is only
 * a cache miss: the next run seeds it again. Returns the removed directories and the bytes they held.
 */
export async function pruneLocalSnapshots(
  layout: CacheLayout,
  snapshots: StoredSnapshot[],
  policy: PrunePolicy,
  keep: Set<string>,
): Promise<{ directories: string[]; bytes: number }> {
  const candidates = snapshots.filter((m) => !keep.has(m.hash) && !m.ephemeralOwner);
  const prune = imagesToPrune(candidates.map((m) => ({ id: m.hash, created: Date.parse(m.createdAt) / 1000 })), policy);
  const removed = { directories: [] as string[], bytes: 0 };
  for (const { id } of prune) {
    removed.bytes += await diskUsage(layout.snapshot(id));
    await removeDir(layout.snapshot(id));
    removed.directories.push(layout.snapshot(id));
  }
  return removed;
}
