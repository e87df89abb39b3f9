import { Snapshot } from '../branch/branch.js';
import type { BranchContext } from '../branch/branch-context.js';
import type { CacheLayout } from '../cache/layout.js';
import { withLock } from '../cache/lock.js';
import type { Driver } from '../drivers/driver.js';
import type { SnapshotRegistry } from '../remote/snapshot-registry.js';
import type { BuildJob } from '../snapshot/build-job.js';

/** What a snapshot is known by before it is needed whole: enough to find it stored or pulled. */
export type SnapshotKey = Pick<BuildJob, 'name' | 'hash' | 'kind'>;

/**
 * Where an engine's snapshots come from: the cache directory, else the registry (recipes only), else seeded here —
 * then pushed to the registry. Each hash is obtained once at a time in this process, and under the hash's lock
 * across processes. The build job is made only when the snapshot has to be seeded (so a cached or pulled recipe
 * never needs its base cluster).
 */
export class SnapshotSupply {
  private readonly pending = new Map<string, Promise<Snapshot>>();

  constructor(
    private readonly ctx: BranchContext,
    private readonly driver: Driver,
    private readonly layout: CacheLayout,
    private readonly registry: SnapshotRegistry | undefined,
  ) {}

  obtain(key: SnapshotKey, job: () => Promise<BuildJob>): Promise<Snapshot> {
    let pending = this.pending.get(key.hash);
    if (!pending) {
      pending = this.findOrBuild(key, job);
      this.pending.set(key.hash, pending);
      pending.finally(() => this.pending.delete(key.hash)).catch(() => undefined);
    }
    return pending;
  }

  /** Waits for what is being obtained. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.pending.values()]);
  }

  /** Waits for the registry's pushes (after branches are gone: a push needs only the stored snapshot). */
  async settlePushes(): Promise<void> {
    await this.registry?.settle();
  }

  private async findOrBuild(key: SnapshotKey, job: () => Promise<BuildJob>): Promise<Snapshot> {
    const { driver, registry } = this;
    const cached = await driver.findSnapshot(key.hash);
    if (cached) return new Snapshot(this.ctx, cached, 'cache');
    // Pulled outside the hash's lock, which the driver takes to store it (the lock is not re-entrant); a pull that
    // finds it stored meanwhile keeps the stored one.
    const pulled = registry && key.kind === 'recipe' ? await registry.pull(key.hash, key.name) : undefined;
    if (pulled) return new Snapshot(this.ctx, pulled, 'registry');
    return withLock(this.layout.lock(key.hash), async () => {
      const builtMeanwhile = await driver.findSnapshot(key.hash);
      if (builtMeanwhile) return new Snapshot(this.ctx, builtMeanwhile, 'cache');
      const meta = await driver.buildSnapshot(await job());
      registry?.push(meta);
      return new Snapshot(this.ctx, meta, 'built');
    });
  }
}
