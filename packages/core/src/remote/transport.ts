import type { StoredSnapshot } from '../snapshot/stored-snapshot.js';

/** Label carrying a pushed snapshot's manifest (the archive manifest as JSON), on every image pgbranch pushes. */
export const PORTABLE_LABEL = 'org.pgbranch.snapshot';

/** How snapshots of one driver travel to and from an image registry. */
export interface RegistryTransport {
  /** Pushes a stored snapshot as `ref`. Rejects with a DockerCommandError or a PgbranchError. */
  push(snapshot: StoredSnapshot, ref: string): Promise<void>;
  /**
   * Pulls `ref` and stores it as the snapshot `hash` of this cache directory. Rejects with a DockerCommandError
   * (a missing image included: see registryFailure) or a PgbranchError; stores nothing then.
   */
  pull(ref: string, hash: string): Promise<StoredSnapshot>;
}
