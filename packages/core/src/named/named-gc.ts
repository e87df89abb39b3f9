import { diskUsage } from '../cache/disk-usage.js';
import type { NamedBranches } from './named-branches.js';

export interface CollectedBranch {
  name: string;
  reason: 'expired' | 'broken';
  /** Bytes its directory held (a Docker branch's container layer is not counted). */
  bytes: number;
}

/** Removes named branches whose TTL has passed and those whose creation was interrupted. */
export async function collectNamedBranches(named: NamedBranches): Promise<CollectedBranch[]> {
  const removed: CollectedBranch[] = [];
  for (const branch of await named.list()) {
    const reason = branch.state === 'broken' ? 'broken' : branch.expired && branch.state !== 'creating' ? 'expired' : undefined;
    if (!reason) continue;
    const bytes = await diskUsage(named.dir(branch.name));
    await named.destroy(branch.name);
    removed.push({ name: branch.name, reason, bytes });
  }
  return removed;
}
