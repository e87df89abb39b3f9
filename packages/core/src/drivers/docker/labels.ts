import { createHash } from 'node:crypto';
/** Labels on every container and image pgbranch makes, so reaping and gc can find them after a crash. */
export const LABEL = {
  managed: 'org.pgbranch.managed',
  /** The cache directory's path, for people (`docker ps --filter label=…`); two machines can share it. */
  cacheDir: 'org.pgbranch.cache-dir',
  /** The cache directory's identity (see loadCacheId): what pgbranch selects its own containers and images by. */
  cacheId: 'org.pgbranch.cache-id',
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

/** Image repository of stored snapshots; the tag is the snapshot hash and the cache directory's identity (see snapshotTag). */
export const SNAPSHOT_REPO = 'pgbranch/snapshot';

/** Which cache directory made a container or image: its path and its identity. */
export interface CacheIdentity {
  root: string;
  /** '' when the cache directory has none yet (then only what was made before identities existed can be its). */
  id: string;
}

export function ownerLabels(cache: CacheIdentity, session: string, kind: string): Record<string, string> {
  return {
    [LABEL.managed]: '1',
    [LABEL.cacheDir]: cache.root,
    ...(cache.id ? { [LABEL.cacheId]: cache.id } : {}),
    [LABEL.session]: session,
    [LABEL.ownerPid]: String(process.pid),
    [LABEL.kind]: kind,
    [LABEL.createdAt]: new Date().toISOString(),
  };
}

/**
 * Engine-side label filters for what a cache directory may have made. The path narrows the listing; {@link madeBy}
 * then decides, because things made before identities existed carry the path alone.
 */
export function cacheFilters(cache: CacheIdentity, ...more: string[]): { label: string[] } {
  return { label: [`${LABEL.cacheDir}=${cache.root}`, ...more] };
}

/**
 * True when labels mark something this cache directory made: its identity, or its path without any identity (made
 * by an older pgbranch). Another cache directory with the same path on another machine has another identity.
 */
export function madeBy(labels: Record<string, string> | undefined, cache: CacheIdentity): boolean {
  if (labels?.[LABEL.cacheDir] !== cache.root) return false;
  const id = labels[LABEL.cacheId];
  return id === undefined ? true : id === cache.id;
}

/**
 * 16 hex digits of sha256 of a cache directory's superuser password: what a snapshot image's data opens with, without
 * revealing the password.
 */
export function passwordFingerprint(password: string): string {
  return createHash('sha256').update(password).digest('hex').slice(0, 16);
}

/**
 * The tag of a stored snapshot's image in {@link SNAPSHOT_REPO}: its hash, and the fingerprint of the password its data
 * carries (see passwordFingerprint). Copies of one cache directory share it (a CI cache restored on another runner:
 * same password, so its images work there too); containers and reaping go by the machine-bound identity instead. Cache directories share hashes (a hash is the
 * same on every machine for the same recipe and image) and may share an engine: one tag for all would let each
 * retag, and start, another's image, whose data carries another password.
 */
export function snapshotImageTag(hash: string, fingerprint: string): string {
  return `${hash}-${fingerprint}`;
}

/** The image of a stored snapshot (image storage), as {@link snapshotImageTag} names it. */
export function snapshotTag(hash: string, fingerprint: string): string {
  return `${SNAPSHOT_REPO}:${snapshotImageTag(hash, fingerprint)}`;
}
