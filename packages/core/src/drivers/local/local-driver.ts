import path from 'node:path';
import { removeDir, removeDirSync } from '../../cloners/remove-dir.js';
import type { EngineContext } from '../../engine/context.js';
import { reapDeadOwners, type ReapReport } from '../reaper.js';
import { buildSnapshot } from './local-builder.js';
import { readCompleteMeta, type SnapshotMeta } from '../../snapshot/snapshot-meta.js';
import type { BranchRuntime, BuildJob, Driver } from '../driver.js';
import { LocalBranch } from './local-branch.js';

/** Postgres server processes on this host, on copy-on-write clones of data directories in the cache. */
export class LocalDriver implements Driver {
  readonly name = 'local' as const;

  constructor(private readonly ctx: EngineContext) {}

  get postgresIdentity(): string {
    return this.ctx.binaries.identity;
  }
  get postgresVersion(): string {
    return this.ctx.binaries.version;
  }
  get postgresMajor(): number {
    return this.ctx.binaries.major;
  }

  findSnapshot(hash: string): Promise<SnapshotMeta | undefined> {
    return readCompleteMeta(this.ctx.layout.snapshot(hash));
  }

  buildSnapshot(job: BuildJob): Promise<SnapshotMeta> {
    return buildSnapshot(this.ctx, job);
  }

  startBranch(snapshot: SnapshotMeta, branch: { id: string; name: string }): Promise<BranchRuntime> {
    return LocalBranch.start(this.ctx, snapshot, branch.id, branch.name);
  }

  removeSnapshot(snapshot: SnapshotMeta): Promise<void> {
    return removeDir(this.ctx.layout.snapshot(snapshot.hash));
  }

  removeSnapshotSync(snapshot: SnapshotMeta): void {
    removeDirSync(this.ctx.layout.snapshot(snapshot.hash));
  }

  reap(): Promise<ReapReport> {
    return reapDeadOwners(this.ctx.layout);
  }

  /** The data directory of a stored snapshot. */
  dataDir(snapshot: SnapshotMeta): string {
    return path.join(this.ctx.layout.snapshot(snapshot.hash), 'data');
  }
}
