import type { NamedBranchMeta } from '../cache/named-record.js';
import type { Driver } from '../drivers/driver.js';
import { UsageError } from '../errors.js';
import type { StoredSnapshot } from '../snapshot/stored-snapshot.js';

/**
 * Stored snapshots a named branch's current data descends from: its snapshot and that snapshot's parents, and the
 * snapshots frozen from this branch (for branches made from it) since its data last came from its snapshot. Every
 * page the branch did not change since one of them is byte for byte that snapshot's page, which diff relies on.
 */
export async function ancestorsOf(driver: Driver, branch: NamedBranchMeta, all: NamedBranchMeta[]): Promise<StoredSnapshot[]> {
  const out = new Map<string, StoredSnapshot>();
  let hash: string | undefined = branch.snapshot.hash;
  while (hash && !out.has(hash)) {
    const snap = await driver.findSnapshot(hash);
    if (!snap) break;
    out.set(hash, snap);
    hash = snap.parent;
  }
  const since = branch.dataSince ?? branch.createdAt;
  for (const child of all) {
    if (child.fromBranch !== branch.name || out.has(child.snapshot.hash)) continue;
    const frozen = await driver.findSnapshot(child.snapshot.hash);
    if (frozen && frozen.createdAt >= since) out.set(frozen.hash, frozen);
  }
  return [...out.values()];
}

/** The newest stored snapshot both branches' data descend from. */
export async function commonAncestor(driver: Driver, a: NamedBranchMeta, b: NamedBranchMeta, all: NamedBranchMeta[]): Promise<StoredSnapshot> {
  const theirs = new Set((await ancestorsOf(driver, b, all)).map((s) => s.hash));
  const shared = (await ancestorsOf(driver, a, all)).filter((s) => theirs.has(s.hash));
  const newest = shared.sort((x, y) => y.createdAt.localeCompare(x.createdAt))[0];
  if (!newest) {
    throw new UsageError(
      `Branches "${a.name}" and "${b.name}" share no stored snapshot (made from different snapshots, or their snapshot is gone from the cache), so they cannot be compared row by row.`,
    );
  }
  return newest;
}
