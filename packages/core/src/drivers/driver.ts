import type { Readable } from 'node:stream';
import type { CacheLayout } from '../cache/layout.js';
import type { EngineUse } from '../cache/engine-use.js';
import type { SessionRecord } from '../cache/session.js';
import type { ProbeResult } from '../cloners/select-cloner.js';
import type { BuildJob } from '../snapshot/build-job.js';
import type { StoredSnapshot } from '../snapshot/stored-snapshot.js';
import type { NamedRuntime } from './named-runtime.js';
import type { ReapReport } from './reaper.js';
import type { DriverRequest } from './driver-request.js';
import type { BranchAddress } from './address.js';

export type { BuildJob, BranchAddress };

/** What a person debugging a branch wants to find: where its files, process, container or database are. */
export interface BranchDetails {
  /** Directory holding the branch's files on this host. */
  dir?: string;
  /** Server process id. */
  pid?: number;
  /** Container id. */
  containerId?: string;
  /** True when the server also serves other branches (one database each): count and end only this database's clients. */
  sharedServer?: boolean;
}

/** A running branch server as its driver sees it. */
export interface BranchRuntime {
  /** Where clients connect. Stable across suspend/resume/reset. */
  address(): BranchAddress;
  details(): BranchDetails;
  /** False between suspend() and resume() (and after the server died). */
  readonly running: boolean;
  /** Back to the snapshot's state, same address. */
  reset(): Promise<void>;
  /** Stops taking connections and keeps the data. */
  suspend(): Promise<void>;
  /** Takes connections again, with the data as it was, on the same address. */
  resume(): Promise<void>;
  /** Stores the current state as a new snapshot; the branch runs on afterwards as before. */
  snapshot(job: Omit<BuildJob, 'from' | 'files' | 'kind'>): Promise<StoredSnapshot>;
  /** Stops the server and removes everything of the branch. */
  destroy(): Promise<void>;
  /** Best-effort synchronous cleanup at process exit. */
  cleanupSync(): void;
}

/** What a driver chose, for people and tools (`engine.info()`, `pgbranch doctor`). */
export interface DriverInfo {
  /** How branches share their snapshot's data: a cloner's name, 'docker-layers' or 'template-database'. */
  storage: string;
  storageReason: string;
  probes: ProbeResult[];
  postgresVersion: string;
  binDir?: string;
  binariesFrom: string;
  image?: string;
  /** The OS user servers run as. */
  serverUser: string;
}

/**
 * Where Postgres runs and how branches share a snapshot's data. A driver owns its snapshots' storage (it lists,
 * finds, builds and removes them), starts branches, persists named branches (see NamedRuntime) and reaps what
 * dead owners of its kind left behind.
 */
export interface Driver {
  readonly name: string;
  readonly info: DriverInfo;
  /** Identity of the Postgres build used, for snapshot hashes. */
  readonly postgresIdentity: string;
  readonly postgresMajor: number;
  /** Settings every server runs with (defaults, the user's, the driver's own); those that shape data are hashed. */
  readonly settings: Record<string, string>;
  /** A complete snapshot's metadata, or undefined when it is not stored (or only half built). */
  findSnapshot(hash: string): Promise<StoredSnapshot | undefined>;
  /** Every complete snapshot this driver has stored for the cache directory. */
  listSnapshots(): Promise<StoredSnapshot[]>;
  /** Records another name a stored snapshot was asked for. */
  nameSnapshot(snapshot: StoredSnapshot, name: string): Promise<void>;
  /** Builds and stores a snapshot; leaves nothing behind on failure. */
  buildSnapshot(job: BuildJob): Promise<StoredSnapshot>;
  /**
   * A tar stream of a stored snapshot's data directory (entries under `data/`), for archives and registries.
   * The data is cleanly shut down (every stored snapshot is); owners in the stream mean nothing to importers.
   */
  exportData(snapshot: StoredSnapshot): Promise<Readable>;
  /**
   * Stores a snapshot that was built elsewhere by the same Postgres build: `data` is a tar stream of its data directory
   * (entries under `data/`, cleanly shut down). Its superuser password is set to this cache directory's (the data
   * carries the other cache's), then it is stored under meta.hash as complete. Nothing is stored unless `verified`
   * resolves (it settles once `data` was read to its end). Returns the stored metadata. Safe against a concurrent
   * build or import of the same hash (under the hash's lock); a hash stored already is returned as it is, and `data`
   * is then not read (it is destroyed). The snapshot's parent need not be stored here.
   */
  importData(meta: StoredSnapshot, data: Readable, verified: Promise<void>): Promise<StoredSnapshot>;
  /**
   * Starts a branch of a stored snapshot. `password`: the superuser password its data carries when that is not the
   * cache directory's (a snapshot frozen of a named branch); drivers that connect over a unix socket do not need it.
   */
  startBranch(snapshot: StoredSnapshot, branch: { id: string; name: string; password?: string }): Promise<BranchRuntime>;
  /** Removes a snapshot this driver stored (used for snapshots of branches). */
  removeSnapshot(snapshot: StoredSnapshot): Promise<void>;
  removeSnapshotSync(snapshot: StoredSnapshot): void;
  /** How named branches (which outlive engines) run with this driver. */
  named(dirOf: (name: string) => string): NamedRuntime;
  /** Removes what dead owners left behind. */
  reap(): Promise<ReapReport>;
  /** Stops what the driver runs for the engine itself (after every branch is gone). */
  close(): Promise<void>;
  closeSync(): void;
}

/** One driver: a folder plus this registration in drivers/registry.ts. */
export interface DriverRegistration {
  readonly name: string;
  /** One line for help texts. */
  readonly summary: string;
  /** Tried by driver 'auto', in registry order. */
  readonly auto: boolean;
  /**
   * Settles what the driver needs (binaries, a cloner, a reachable Docker engine…) and makes it. Throws
   * DriverUnavailableError when this machine cannot run it (driver 'auto' then tries the next).
   */
  create(request: DriverRequest): Promise<Driver>;
}

export type { DriverRequest, EngineUse, CacheLayout, SessionRecord };
