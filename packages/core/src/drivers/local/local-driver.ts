import type { Readable } from 'node:stream';
import { SnapshotDirs } from '../../cache/snapshot-dirs.js';
import type { BuildJob } from '../../snapshot/build-job.js';
import type { StoredSnapshot } from '../../snapshot/stored-snapshot.js';
import type { LocalContext } from '../context.js';
import type { BranchRuntime, Driver, DriverInfo } from '../driver.js';
import type { NamedRuntime } from '../named-runtime.js';
import { reapDeadOwners, type ReapReport } from '../reaper.js';
import { LocalBranch } from './local-branch.js';
import { buildSnapshot } from './local-builder.js';
import { LocalNamedRuntime } from './named-runtime.js';
import { rekeyCluster } from './rekey-cluster.js';

/** Postgres server processes on this host, on copy-on-write clones of data directories in the cache. */
export class LocalDriver implements Driver {
  readonly name = 'local';
  private readonly store: SnapshotDirs;

  constructor(
    private readonly ctx: LocalContext,
    readonly info: DriverInfo,
  ) {
    this.store = new SnapshotDirs(ctx.layout);
  }

  get postgresIdentity(): string {
    return this.ctx.binaries.identity;
  }
  get postgresMajor(): number {
    return this.ctx.binaries.major;
  }
  get settings(): Record<string, string> {
    return this.ctx.settings;
  }

  findSnapshot(hash: string): Promise<StoredSnapshot | undefined> {
    return this.store.find(hash);
  }
  listSnapshots(): Promise<StoredSnapshot[]> {
    return this.store.list();
  }
  nameSnapshot(snapshot: StoredSnapshot, name: string): Promise<void> {
    return this.store.name(snapshot, name);
  }
  buildSnapshot(job: BuildJob): Promise<StoredSnapshot> {
    return buildSnapshot(this.ctx, job);
  }
  async exportData(snapshot: StoredSnapshot): Promise<Readable> {
    return this.store.exportData(snapshot);
  }
  importData(meta: StoredSnapshot, data: Readable, verified: Promise<void>): Promise<StoredSnapshot> {
    return importLocal(this.ctx, this.store, meta, data, verified);
  }
  removeSnapshot(snapshot: StoredSnapshot): Promise<void> {
    return this.store.remove(snapshot);
  }
  removeSnapshotSync(snapshot: StoredSnapshot): void {
    this.store.removeSync(snapshot);
  }

  startBranch(snapshot: StoredSnapshot, branch: { id: string; name: string }): Promise<BranchRuntime> {
    return LocalBranch.start(this.ctx, snapshot, branch.id, branch.name);
  }

  named(dirOf: (name: string) => string): NamedRuntime {
    return new LocalNamedRuntime(this.ctx, dirOf);
  }

  reap(): Promise<ReapReport> {
    return reapDeadOwners(this.ctx.layout);
  }

  /** Every server is a branch's: nothing of the driver's own to stop. */
  async close(): Promise<void> {}
  closeSync(): void {}
}

/** Imports into the data directories of drivers that run local binaries (local, template). */
export function importLocal(ctx: LocalContext, store: SnapshotDirs, meta: StoredSnapshot, data: Readable, verified: Promise<void>): Promise<StoredSnapshot> {
  return store.importData(meta, data, verified, {
    session: ctx.session.id,
    cloner: ctx.cloner,
    owner: ctx.runAs,
    rekey: (dataDir) => rekeyCluster(ctx.binaries, dataDir, ctx.password, ctx.runAs),
  });
}
