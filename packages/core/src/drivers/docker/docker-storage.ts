import type { Readable } from 'node:stream';
import type { BuildJob } from '../../snapshot/build-job.js';
import type { StoredSnapshot } from '../../snapshot/stored-snapshot.js';
import type { ServerSource } from './container-spec.js';

/** Where a branch's data is: its container (whose writable layer holds it) and its directory on this host. */
export interface BranchPlace {
  containerId?: string;
  /** The branch's directory (its data directory is `data/` inside). */
  dir?: string;
}

/**
 * How the docker driver stores snapshots and branch data: committed images and container layers (ImageLayers),
 * or directories in the cache cloned on this host and bind-mounted (BindClones). A branch directory is passed
 * to every branch method; storages that keep nothing on this host ignore it.
 */
export interface DockerStorage {
  /** Recorded in named branches, so tools reopen the driver with the same storage. */
  readonly kind: 'image' | 'bind';
  /** True when branch data lives in the branch directory on this host (which a branch's removal then removes). */
  readonly hostData: boolean;
  find(hash: string): Promise<StoredSnapshot | undefined>;
  list(): Promise<StoredSnapshot[]>;
  /** Records another name a stored snapshot was asked for (where the storage keeps names). */
  name(snapshot: StoredSnapshot, name: string): Promise<void>;
  /** Builds and stores a snapshot; leaves nothing behind on failure. */
  build(job: BuildJob): Promise<StoredSnapshot>;
  remove(snapshot: StoredSnapshot): Promise<void>;
  removeSync(snapshot: StoredSnapshot): void;
  /** A tar stream of a stored snapshot's data directory, entries under `data/` (see Driver.exportData). */
  exportData(snapshot: StoredSnapshot): Promise<Readable>;
  /** Stores a snapshot built elsewhere, given this cache directory's password (see Driver.importData). */
  importData(meta: StoredSnapshot, data: Readable, verified: Promise<void>): Promise<StoredSnapshot>;
  /** Makes a branch's data from `parent` in `dir`. */
  makeData(parent: StoredSnapshot, dir: string): Promise<void>;
  /** Throws a branch's data away (its server stopped, its container removed). */
  discardData(dir: string): Promise<void>;
  /** What a branch's server container runs on. */
  mount(parent: StoredSnapshot, dir: string): ServerSource;
  /** Stores a branch's data, its server cleanly stopped, as a new snapshot. */
  freeze(job: Omit<BuildJob, 'files'>, branch: BranchPlace): Promise<StoredSnapshot>;
}
