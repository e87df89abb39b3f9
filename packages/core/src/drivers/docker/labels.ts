import { createHash } from 'node:crypto';

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

/**
 * Image repository of stored snapshots; the tag is the snapshot hash and the fingerprint of the cache directory's
 * password (see snapshotTag).
 */
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

/**
 * 16 hex digits of sha256 of a cache directory's superuser password: tells its snapshot images apart from another
 * cache directory's on a shared engine (a snapshot's data carries its password), without revealing the password.
 */
export function passwordFingerprint(password: string): string {
  return createHash('sha256').update(password).digest('hex').slice(0, 16);
}

/**
 * The image of a stored snapshot (image storage): `pgbranch/snapshot:<hash>-<fingerprint>`. The hash is the same on
 * every machine for the same recipe and image; the fingerprint (passwordFingerprint) keeps cache directories apart.
 */
export function snapshotTag(hash: string, fingerprint: string): string {
  return `${SNAPSHOT_REPO}:${snapshotTagOf(hash, fingerprint)}`;
}

/** The tag part of snapshotTag. */
export function snapshotTagOf(hash: string, fingerprint: string): string {
  return `${hash}-${fingerprint}`;
}
