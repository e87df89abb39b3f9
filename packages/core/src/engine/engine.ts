import { existsSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { mkdir, rmdir } from 'node:fs/promises';
import { CacheDirError, describeCause, hintFor, UnsafePathError, UsageError } from '../errors.js';
import { ownDir } from '../system/private-dir.js';
import { logger } from '../log.js';
import { resolveOptions, type EngineOptions, type ResolvedOptions } from '../options.js';
import { noticeInitHashing, type SnapshotRecipe } from '../snapshot/recipe.js';
import { assertName } from '../snapshot/snapshot-names.js';
import type { BuildJob } from '../snapshot/build-job.js';
import type { Driver } from '../drivers/driver.js';
import { createDriver } from '../drivers/registry.js';
import { Snapshot } from '../branch/branch.js';
import type { BranchContext, TrackedResource } from '../branch/branch-context.js';
import type { StoredSnapshot } from '../snapshot/stored-snapshot.js';
import { Pool, type PoolOptions } from '../pool/pool.js';
import { NamedBranches } from '../named/named-branches.js';
import { registerForExit } from './exit-cleanup.js';
import { exportArchive, importArchive, noSuchSnapshot } from '../remote/portable-snapshots.js';
import { SnapshotRegistry } from '../remote/snapshot-registry.js';
import { SnapshotSupply } from './snapshot-supply.js';
import { baseHashOf, hashRecipe } from './recipe-hash.js';
import { engineInfo, type EngineInfo } from './engine-info.js';

export type { EngineInfo };
import { CacheLayout } from '../cache/layout.js';
import { reapDeadOwners, type ReapReport } from '../drivers/reaper.js';
import { loadSecret, readSecret } from '../cache/secret.js';
import { unrecordedSession, writeSession, type EngineUse } from '../cache/engine-use.js';
import { closeSession, type SessionRecord } from '../cache/session.js';

const log = logger('engine');

/** A recipe, optionally on top of another snapshot instead of a fresh cluster. */
export interface SnapshotRequest extends SnapshotRecipe {
  /** Build on this snapshot instead of a fresh cluster (its hash becomes part of this one's). */
  parent?: Snapshot;
}

/** Creates an engine: finds binaries, picks a cloner for the cache directory and reaps dead owners' leftovers. */
export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  return Engine.create(resolveOptions(options));
}

export type { EngineUse };

/** @internal An engine for one command-line use (see EngineUse). */
export async function openEngine(options: EngineOptions, use: EngineUse): Promise<Engine> {
  return Engine.create(resolveOptions(options), use);
}

/** Owns snapshots and branches in one cache directory. Dispose it to stop and remove its branches. */
export class Engine implements AsyncDisposable {
  private readonly resources: TrackedResource[] = [];
  private readonly pools = new Set<Pool>();
  private closed = false;
  private sessionRecorded = true;
  private unregister: () => void = () => undefined;

  private constructor(
    private readonly layout: CacheLayout,
    private readonly session: SessionRecord,
    private readonly driver: Driver,
    /** Superuser password of this cache directory's snapshots (never logged). */
    private readonly password: string,
    registry: SnapshotRegistry | undefined,
  ) {
    this.ctx = { driver, sessionId: session.id, track: (resource) => this.track(resource) };
    this.supply = new SnapshotSupply(this.ctx, driver, layout, registry);
  }

  /** What snapshots and branches of this engine share. */
  private readonly ctx: BranchContext;
  /** Where snapshots come from: the cache, the registry (EngineOptions.registry), or seeding. */
  private readonly supply: SnapshotSupply;

  /** @internal */
  static async create(options: ResolvedOptions, use: EngineUse = 'build'): Promise<Engine> {
    const layout = new CacheLayout(options.cacheDir);
    if (use !== 'read') {
      try {
        await mkdir(layout.root, { recursive: true });
        await ownDir(layout.root, 0o755);
      } catch (err) {
        if (err instanceof UnsafePathError) throw err;
        const verb = existsSync(layout.root) ? 'write to' : 'create';
        throw new CacheDirError(`Cannot ${verb} the cache directory ${layout.root}: ${describeCause(err)}.${hintFor(err)}`, { cause: err });
      }
    }
    const password = use === 'read' ? await readSecret(layout.secret) : await loadSecret(layout.secret);
    const session = use === 'build' ? await writeSession(layout) : unrecordedSession();
    let driver: Driver;
    try {
      driver = await createDriver(options.driver, {
        layout,
        session,
        use,
        password,
        cloner: options.cloner,
        binDir: options.binDir,
        user: options.user,
        docker: options.docker,
        settings: options.settings,
      });
    } catch (err) {
      if (use === 'build') await closeSession(layout, session.id, session).catch(() => undefined);
      throw err;
    }
    if (options.reap && use !== 'read') {
      await driver.reap();
      if (driver.name !== 'local') await reapDeadOwners(layout); // owner records, locks and local leftovers
    }
    const registry = options.registry && use === 'build' ? new SnapshotRegistry(options.registry, driver, options.docker.dockerHost) : undefined;
    const engine = new Engine(layout, session, driver, password, registry);
    engine.sessionRecorded = use === 'build';
    engine.unregister = registerForExit(engine);
    log('engine %s: %s driver, %s (%s), postgres %s, cache %s', session.id, driver.name, driver.info.storage, driver.info.storageReason, driver.info.postgresVersion, layout.root);
    return engine;
  }

  /** What the engine chose, for people and tools (`pgbranch doctor`). */
  info(): EngineInfo {
    return engineInfo(this.driver, this.layout.root, this.session.id);
  }

  /**
   * Returns the snapshot of a recipe, seeding it only if no complete snapshot with the same content
   * hash is cached. Concurrent calls (in this process or others) seed it once. The cache entry is shared by
   * hash; the returned snapshot carries the recipe's name, which is recorded so the cache finds it by that name too.
   */
  async snapshot(recipe: SnapshotRequest): Promise<Snapshot> {
    this.assertBuilds();
    if (!recipe?.name) throw new UsageError('engine.snapshot() needs a recipe with a name, e.g. { name: "app", sql: ["db/schema.sql"] }.');
    assertName('Snapshot', recipe.name);
    noticeInitHashing(recipe);
    const { hash, files } = await hashRecipe(this.driver, recipe);
    // The parent (even the base cluster) is needed only to seed it here: not when it is stored, imported or pulled.
    const job = async (): Promise<BuildJob> => ({ name: recipe.name, hash, kind: 'recipe', from: (recipe.parent ?? (await this.base())).meta, files, init: recipe.init });
    const snap = (await this.supply.obtain({ name: recipe.name, hash, kind: 'recipe' }, job)).as(recipe.name);
    if (snap.meta.name !== recipe.name) await this.driver.nameSnapshot(snap.meta, recipe.name);
    return snap;
  }

  /**
   * The hash engine.snapshot(recipe) would use, computed without building anything (base cluster included), for CI
   * cache keys. The same on every machine for the same recipe, settings and Postgres build (binaries, or image).
   */
  async snapshotHash(recipe: SnapshotRequest): Promise<string> {
    this.assertOpen();
    return (await hashRecipe(this.driver, recipe)).hash;
  }

  /**
   * Writes a stored snapshot (by name or hash, see storedSnapshot()) to `out` (ended) as a snapshot archive for
   * importSnapshot() on a machine with the same Postgres build. Throws SnapshotNotFoundError listing what is stored.
   */
  async exportSnapshot(nameOrHash: string, out: Writable): Promise<StoredSnapshot> {
    const snap = await this.storedSnapshot(nameOrHash);
    if (!snap) throw noSuchSnapshot(nameOrHash, await this.storedSnapshots(), this.layout.root);
    await exportArchive(this.driver, snap.meta, out);
    return snap.meta;
  }

  /**
   * Stores the snapshot of an archive (see exportSnapshot) read from `input` (`source` names it in errors), with this
   * cache directory's password; its parents need not exist here. `reused` when its hash was stored already. Throws
   * SnapshotIncompatibleError (another Postgres build) or SnapshotArchiveError (damaged, foreign): nothing is stored.
   */
  async importSnapshot(input: Readable, source = 'archive'): Promise<Snapshot> {
    this.assertBuilds();
    const { meta, reused } = await importArchive(this.driver, input, source);
    return new Snapshot(this.ctx, meta, reused ? 'cache' : 'archive');
  }

  /**
   * A warm pool of branches of `snapshot`: `acquire()` hands over an already running branch.
   * Closed with the engine.
   */
  pool(snapshot: Snapshot, options: PoolOptions = {}): Pool {
    this.assertBuilds();
    const pool = new Pool(snapshot, options);
    this.pools.add(pool);
    return pool;
  }

  /**
   * The named, long-lived branches of this cache directory (`pgbranch create/ls/suspend/resume/rm`). They belong to
   * no engine: closing this engine or a crash leaves them as they are. Local driver: server processes;
   * docker driver: containers (stopped while suspended).
   */
  named(options: { idleAfterMs?: number } = {}): NamedBranches {
    this.assertOpen();
    return new NamedBranches({ layout: this.layout, driver: this.driver, password: this.password }, options.idleAfterMs);
  }

  /**
   * A snapshot already in the cache, by name (the newest with that name) or by hash or hash prefix;
   * undefined when there is none. Used by the CLI (`pgbranch create --from NAME`).
   */
  async storedSnapshot(nameOrHash: string): Promise<Snapshot | undefined> {
    this.assertOpen();
    const all = await this.storedSnapshots();
    const byHash = all.filter((m) => m.hash.startsWith(nameOrHash));
    if (byHash.length > 1) throw new UsageError(`"${nameOrHash}" matches ${byHash.length} snapshots; give more of the hash.`);
    if (byHash[0]) return new Snapshot(this.ctx, byHash[0], 'cache');
    const named = all.filter((m) => (m.name === nameOrHash || m.names?.includes(nameOrHash)) && m.kind !== 'base');
    const meta = named.sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
    return meta ? new Snapshot(this.ctx, meta, 'cache', nameOrHash) : undefined;
  }

  /** Every complete snapshot this engine's driver has stored, newest first, with the other names it was asked for. */
  async storedSnapshots(): Promise<StoredSnapshot[]> {
    const metas = await this.driver.listSnapshots();
    return metas.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /** Removes what dead owners left behind (servers, mounts, directories). */
  gc(): Promise<ReapReport> {
    return this.driver.reap();
  }

  /** Stops and removes every branch and branch snapshot this engine made. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.supply.settle();
    // Pools first: they stop refilling and wait for branches they are starting, then destroy theirs.
    await Promise.allSettled([...this.pools].map((pool) => pool.close()));
    while (this.resources.length > 0) {
      const resource = this.resources.pop()!;
      await resource.dispose().catch((err) => log('dispose failed: %s', describeCause(err)));
    }
    await this.supply.settlePushes();
    await this.driver.close().catch((err) => log('driver close failed: %s', describeCause(err)));
    if (this.sessionRecorded) {
      // Empty unless a branch was kept on purpose (then the next engine or `pgbranch gc` reaps it).
      await rmdir(this.layout.branches(this.session.id)).catch(() => undefined);
      await closeSession(this.layout, this.session.id, this.session);
    }
    this.unregister();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal Synchronous cleanup at process exit. */
  cleanupSync(): void {
    for (const resource of this.resources.splice(0).reverse()) resource.cleanupSync();
    this.driver.closeSync();
  }

  private track(resource: TrackedResource): () => void {
    this.assertOpen();
    this.resources.push(resource);
    return () => {
      const i = this.resources.indexOf(resource);
      if (i >= 0) this.resources.splice(i, 1);
    };
  }

  /** The freshly initialised cluster every recipe starts from (initdb once per binaries + settings). */
  private base(): Promise<Snapshot> {
    const job: BuildJob = { name: `postgres-${this.driver.info.postgresVersion}`, hash: baseHashOf(this.driver), kind: 'base', files: [] };
    return this.supply.obtain(job, async () => job);
  }

  /** What is built is filed under the owner record, which engines opened only to read or maintain do not write. */
  private assertBuilds(): void {
    this.assertOpen();
    if (!this.sessionRecorded) throw new UsageError('This engine was opened to read or maintain named branches; snapshots and branches need one from createEngine().');
  }

  private assertOpen(): void {
    if (this.closed) throw new UsageError('This engine was closed; create a new one with createEngine().');
  }
}


