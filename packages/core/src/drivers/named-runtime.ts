import type { NamedBranchMeta } from '../cache/named-record.js';
import type { BuildJob } from '../snapshot/build-job.js';
import type { StoredSnapshot } from '../snapshot/stored-snapshot.js';
import type { BranchAddress } from './address.js';

/** An engine branch whose server is stopped, to be turned into a named branch. */
export interface AdoptSource {
  /** The branch's directory on this host (local driver: `data/` and its clone's layers are inside). */
  dir?: string;
  /** The branch's container (docker driver). */
  containerId?: string;
}

/** A named branch's server as it runs right now. */
export interface LiveServer {
  pid?: number;
  startTime?: string;
  containerId?: string;
}

/**
 * How a driver persists named branches, which outlive every engine: their state is the record in
 * `<cache>/named/<name>/branch.json` (NamedBranchMeta), so any process can pick a branch up again.
 * NamedBranches does the bookkeeping (records, locks, states, credentials); the runtime does the work.
 */
export interface NamedRuntime {
  /** What this driver records in a new branch's record besides the common fields. */
  recordFields(): Partial<NamedBranchMeta>;
  /**
   * Where a branch of this driver runs when that is somewhere this runtime does not reach (the docker driver: another
   * engine), to refuse it with that said; undefined when it runs here.
   */
  elsewhere?(meta: Pick<NamedBranchMeta, 'docker'>): string | undefined;
  /** Makes the branch's data from `parent` (a copy-on-write clone; nothing for Docker image storage). */
  prepare(meta: NamedBranchMeta, parent: StoredSnapshot): Promise<void>;
  /**
   * Starts the server on `meta.port` (a free one when 0) and records it in `meta`. `password`: the superuser
   * password the data carries right now (to wait for the server with). `onServing`, where the driver can tell,
   * is called once the server accepts connections on its port, before start's own checks end: a client waiting
   * for the branch (wake on connect) gets in that much sooner. The promise it may return resolves when those
   * clients' connections have started; the checks wait for it rather than compete with them.
   */
  start(meta: NamedBranchMeta, parent: StoredSnapshot, password: string, onServing?: () => Promise<void> | void): Promise<void>;
  /** The server, when it runs. */
  live(meta: NamedBranchMeta): Promise<LiveServer | undefined>;
  /** 'fast' keeps the data consistent (clean shutdown); 'immediate' is for data about to be thrown away. */
  stop(meta: NamedBranchMeta, server: LiveServer, mode: 'fast' | 'immediate'): Promise<void>;
  /** Throws the data away (before a reset's prepare); the server is stopped. */
  discard(meta: NamedBranchMeta): Promise<void>;
  /** Removes what lives outside the branch directory (a container, a socket directory). */
  removeOutside(meta: NamedBranchMeta): Promise<void>;
  /** Stores the stopped branch's data as a snapshot (to branch a branch). */
  freeze(meta: NamedBranchMeta, job: Omit<BuildJob, 'files' | 'kind'>): Promise<StoredSnapshot>;
  /**
   * Takes over the data of an engine branch whose server is stopped, and returns the snapshot the named branch
   * starts from: `parent` when the data could be moved into place as it is (local driver: a rename, no copy), else
   * a snapshot frozen from the branch for this named branch alone (marked `ownSnapshot`, removed with it).
   */
  adopt(meta: NamedBranchMeta, source: AdoptSource, parent: StoredSnapshot): Promise<StoredSnapshot>;
  /** Where clients reach the branch, with `password` (unix socket directory where there is one). */
  address(meta: NamedBranchMeta, password: string): BranchAddress;
}
