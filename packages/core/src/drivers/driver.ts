import type { ReapReport } from './reaper.js';
import type { RecipeFile } from '../snapshot/recipe.js';
import type { SnapshotMeta } from '../snapshot/snapshot-meta.js';

/** Everything needed to build one snapshot. */
export interface BuildJob {
  name: string;
  hash: string;
  kind: SnapshotMeta['kind'];
  /** The snapshot to start from; none for the base cluster (initdb). */
  from?: SnapshotMeta;
  files: RecipeFile[];
  init?: (url: string) => Promise<void> | void;
  ephemeralOwner?: string;
}

/** A running branch server as its driver sees it. */
export interface BranchRuntime {
  readonly port: number;
  /** Unix socket directory, where the driver offers one. */
  readonly socketDir: string | undefined;
  /** Server process id (local) — undefined for containers. */
  readonly pid: number | undefined;
  /** Container id (docker). */
  readonly containerId: string | undefined;
  /** Directory holding the branch's files on this host, if any. */
  readonly dir: string | undefined;
  /** Back to the snapshot's state, same port. */
  reset(): Promise<void>;
  /** Stops the server cleanly and keeps its data (directory or container). */
  suspend(): Promise<void>;
  /** Starts a suspended server again on the same port. */
  resume(): Promise<void>;
  /** False between suspend() and resume(). */
  readonly running: boolean;
  /** Stops cleanly, stores the current state as a new snapshot, starts again on the same port. */
  snapshot(job: Omit<BuildJob, 'from' | 'files' | 'kind'>): Promise<SnapshotMeta>;
  /** Stops the server and removes everything of the branch. */
  destroy(): Promise<void>;
  /** Best-effort synchronous cleanup at process exit. */
  cleanupSync(): void;
}

/** Where Postgres runs: server processes on this host, or containers. */
export interface Driver {
  readonly name: 'local' | 'docker';
  /** A complete snapshot's metadata, or undefined when it is not stored (or only half built). */
  findSnapshot(hash: string): Promise<SnapshotMeta | undefined>;
  /** Builds and stores a snapshot; leaves nothing behind on failure. */
  buildSnapshot(job: BuildJob): Promise<SnapshotMeta>;
  /** Starts a branch of a stored snapshot. */
  startBranch(snapshot: SnapshotMeta, branch: { id: string; name: string }): Promise<BranchRuntime>;
  /** Removes a snapshot this driver stored (used for snapshots of branches). */
  removeSnapshot(snapshot: SnapshotMeta): Promise<void>;
  removeSnapshotSync(snapshot: SnapshotMeta): void;
  /** Removes what dead owners left behind. */
  reap(): Promise<ReapReport>;
  /** Identity of the Postgres build used, for snapshot hashes. */
  readonly postgresIdentity: string;
  readonly postgresVersion: string;
  readonly postgresMajor: number;
}
