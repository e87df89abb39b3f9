/** Labels on every container and image pgbranch makes, so reaping and gc can find them after a crash. */
export const LABEL = {
  managed: 'org.pgbranch.managed',
  cacheDir: 'org.pgbranch.cache-dir',
  session: 'org.pgbranch.session',
  ownerPid: 'org.pgbranch.owner-pid',
  hash: 'org.pgbranch.hash',
  kind: 'org.pgbranch.kind',
  name: 'org.pgbranch.name',
  parent: 'org.pgbranch.parent',
  createdAt: 'org.pgbranch.created-at',
  ephemeralOwner: 'org.pgbranch.ephemeral-owner',
  meta: 'org.pgbranch.meta',
} as const;

/** Image repository of stored snapshots; the tag is the snapshot hash. */
export const SNAPSHOT_REPO = 'pgbranch/snapshot';

export function ownerLabels(cacheDir: string, session: string, kind: string): Record<string, string> {
  return {
    [LABEL.managed]: '1',
    [LABEL.cacheDir]: cacheDir,
    [LABEL.session]: session,
    [LABEL.ownerPid]: String(process.pid),
    [LABEL.kind]: kind,
    [LABEL.createdAt]: new Date().toISOString(),
  };
}

/** The image of a stored snapshot (image storage). */
export function snapshotTag(hash: string): string {
  return `${SNAPSHOT_REPO}:${hash}`;
}
