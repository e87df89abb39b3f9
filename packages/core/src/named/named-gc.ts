import type { NamedBranches } from './named-branches.js';

export interface CollectedBranch {
  name: string;
  reason: 'expired' | 'broken';
}

/** Removes named branches whose TTL has passed and those whose creation was interrupted. */
export async function collectNamedBranches(named: NamedBranches): Promise<CollectedBranch[]> {
  const removed: CollectedBranch[] = [];
  for (const branch of await named.list()) {
    const reason = branch.state === 'broken' ? 'broken' : branch.expired && branch.state !== 'creating' ? 'expired' : undefined;
    if (!reason) continue;
    await named.remove(branch.name);
    removed.push({ name: branch.name, reason });
  }
  return removed;
}
