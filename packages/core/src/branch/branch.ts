import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { addressUrl, socketConnection, tcpConnection } from '../drivers/address.js';
import type { BranchAddress, BranchRuntime } from '../drivers/driver.js';
import { UsageError } from '../errors.js';
import { logger } from '../log.js';
import type { StoredSnapshot } from '../snapshot/stored-snapshot.js';
import type { BranchContext } from './branch-context.js';
import { withClients } from '../diff/connect.js';
import { diffDatabases } from '../diff/diff.js';
import type { DatabaseDiff, DiffOptions } from '../diff/types.js';

const log = logger('branch');

export interface BranchOptions {
  /** Shown in errors and listings. @default a short random id */
  name?: string;
}

/** Connection settings of a branch, in the shape `pg` and most drivers accept. */
export interface ConnectionOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/** Where an engine got a snapshot from (see Snapshot.origin). */
export type SnapshotOrigin = 'built' | 'cache' | 'registry' | 'archive';

/**
 * An immutable, checkpointed Postgres state, identified by the content hash of its recipe. The stored snapshot is
 * shared by every recipe with that hash; `name` is the name this snapshot was asked for.
 */
export class Snapshot {
  /** @internal */
  constructor(
    private readonly ctx: BranchContext,
    readonly meta: StoredSnapshot,
    /**
     * Where it came from for this engine: 'built' (seeded now), 'cache' (found in the cache directory), 'registry'
     * (pulled from the snapshot registry) or 'archive' (imported from an archive).
     */
    readonly origin: SnapshotOrigin,
    private readonly requestedName?: string,
  ) {}

  /** True when this snapshot was not seeded now (found in the cache, pulled or imported). */
  get reused(): boolean {
    return this.origin !== 'built';
  }

  /** The name it was asked for (a recipe's `name`), even when the stored snapshot was built under another one. */
  get name(): string {
    return this.requestedName ?? this.meta.name;
  }

  /** @internal The same snapshot, asked for under another name. */
  as(name: string): Snapshot {
    return name === this.name ? this : new Snapshot(this.ctx, this.meta, this.origin, name);
  }
  get hash(): string {
    return this.meta.hash;
  }
  /** Size of the stored data (data directory, or image). */
  get sizeBytes(): number {
    return this.meta.sizeBytes;
  }

  /** Starts a new writable branch: a copy-on-write copy of this snapshot with its own database. */
  branch(options: BranchOptions = {}): Promise<Branch> {
    return Branch.create(this.ctx, this, options);
  }
}

/** A writable, running Postgres cloned copy-on-write from a snapshot. Dispose (or destroy) it when done. */
export class Branch implements AsyncDisposable {
  private runtime: BranchRuntime | undefined;
  private destroyed = false;
  private queue: Promise<unknown> = Promise.resolve();
  private untrack: () => void = () => undefined;

  private constructor(
    private readonly ctx: BranchContext,
    /** The snapshot this branch was made from (and that reset() returns to). */
    readonly parent: Snapshot,
    readonly id: string,
    readonly name: string,
  ) {}

  /** @internal Starts a branch through the engine's driver. Leaves nothing behind on failure. */
  static async create(ctx: BranchContext, parent: Snapshot, options: BranchOptions): Promise<Branch> {
    const id = randomBytes(4).toString('hex');
    const branch = new Branch(ctx, parent, id, options.name ?? id);
    branch.untrack = ctx.track({ cleanupSync: () => branch.runtime?.cleanupSync(), dispose: () => branch.destroy() });
    try {
      branch.runtime = await ctx.driver.startBranch(parent.meta, { id, name: branch.name });
    } catch (err) {
      branch.destroyed = true;
      branch.untrack();
      throw err;
    }
    return branch;
  }

  /** The directory of the branch's server on this host (data, socket and server log); the template driver's is shared by the snapshot's branches. */
  get dir(): string | undefined {
    return this.current().details().dir;
  }
  /** Directory of the unix socket (connect with host set to it), where the driver offers one. */
  get socketDir(): string | undefined {
    return this.current().address().socketDir;
  }
  get port(): number {
    return this.current().address().port;
  }
  /** The branch's server process on this host; with the template driver, the server every branch of the snapshot shares (`sharesServer`). */
  get pid(): number | undefined {
    return this.current().details().pid;
  }
  /** Container id (docker driver). */
  get containerId(): string | undefined {
    return this.current().details().containerId;
  }
  /** True when the branch is one database of a server other branches share (template driver): its `pid` and `dir` are that server's. */
  get sharesServer(): boolean {
    return this.current().details().sharedServer === true;
  }
  /** `postgresql://postgres:…@HOST:PORT/DATABASE`: works with pg, psql, Prisma, Drizzle. Contains the password. */
  get url(): string {
    return addressUrl(this.current().address());
  }
  /** TCP connection settings (host, port, user, password, database) as the branch's driver reports them. */
  connectionOptions(): ConnectionOptions {
    return tcpConnection(this.current().address()) as ConnectionOptions;
  }
  /** @internal pgbranch's own connections: over the unix socket where there is one, else TCP. */
  adminConnection(): ReturnType<typeof socketConnection> {
    return socketConnection(this.current().address());
  }
  /** @internal */
  address(): BranchAddress {
    return this.current().address();
  }
  get isDestroyed(): boolean {
    return this.destroyed;
  }
  /** 'running', or 'suspended' between suspend() and resume(). */
  get state(): 'running' | 'suspended' | 'destroyed' {
    if (this.destroyed) return 'destroyed';
    return this.runtime?.running === false ? 'suspended' : 'running';
  }

  /**
   * Stops the server cleanly and keeps its data: a suspended branch costs disk only. Its URL stays the same;
   * connections are refused until resume(). Does nothing when already suspended.
   */
  suspend(): Promise<void> {
    return this.serial(() => this.current().suspend());
  }

  /** Starts a suspended branch again on the same URL, with its data as it was. Does nothing when running. */
  resume(): Promise<void> {
    return this.serial(() => this.current().resume());
  }

  /** Throws away every change: the branch returns to its snapshot's state on the same URL (running). */
  reset(): Promise<void> {
    return this.serial(() => this.current().reset());
  }

  /** Takes a snapshot of the branch's current state (branch of a branch). It lives as long as this engine. */
  snapshot(options: { name?: string } = {}): Promise<Snapshot> {
    return this.serial(async () => {
      const hash = `${this.parent.hash.slice(0, 12)}-${this.id}-${randomBytes(3).toString('hex')}`;
      const meta = await this.current().snapshot({ name: options.name ?? `${this.name}-snapshot`, hash, ephemeralOwner: this.ctx.sessionId });
      this.ctx.track({ cleanupSync: () => this.ctx.driver.removeSnapshotSync(meta), dispose: () => this.ctx.driver.removeSnapshot(meta) });
      return new Snapshot(this.ctx, meta, 'built');
    });
  }

  /**
   * What this branch changed since its snapshot: schema objects added, dropped or changed, and rows inserted, updated
   * and deleted (by primary key; tables without one by whole-row content). A short-lived branch of the snapshot is
   * started to compare with; only pages whose LSN moved are read, so a small change in a big database is quick.
   */
  async diff(options: DiffOptions = {}): Promise<DatabaseDiff> {
    // Not queued behind (or ahead of) reset, suspend and destroy: a diff only reads, and one a caller gave up on must
    // not hold up the branch's destroy (it then fails, and its comparison branch is destroyed all the same).
    if (!this.current().running) throw new UsageError(`Branch "${this.name}" is suspended; resume() it before diff().`);
    const base = await Branch.create(this.ctx, this.parent, { name: `${this.name}-diff-base` });
    try {
      return await withClients([base.adminConnection(), this.adminConnection()], ([b, h]) =>
        diffDatabases({ client: b!, label: `snapshot ${this.parent.name} (${this.parent.hash.slice(0, 12)})` }, { client: h!, label: `branch ${this.name}` }, options),
      );
    } finally {
      await base.destroy();
    }
  }

  /**
   * Leaves this branch running after its engine closes or the process exits (to inspect a failed
   * test). The next engine on the same cache directory, or `pgbranch gc`, removes it.
   */
  keep(): void {
    if (this.sharesServer) {
      throw new UsageError(`Branch "${this.name}" is a database of its engine's shared server (template driver), which stops with the engine: it cannot be kept. Use driver 'local' to keep branches.`);
    }
    this.untrack();
    this.untrack = () => undefined;
  }

  /** Stops the server and removes the clone. Safe to call twice. */
  destroy(): Promise<void> {
    if (this.destroyed) return this.queue.then(() => undefined, () => undefined);
    this.destroyed = true;
    const teardown = async (): Promise<void> => {
      this.untrack();
      await this.runtime?.destroy();
      log('%s destroyed', this.name);
    };
    const done = this.queue.then(teardown, teardown);
    this.queue = done;
    return done;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy();
  }

  /** Redacted: the password never reaches logs through a printed branch. */
  toString(): string {
    let where = 'stopped';
    try {
      const address = this.runtime?.address();
      if (address) where = `${address.host}:${address.port}/${address.database}`;
    } catch {
      // Between a stop and a start (reset, snapshot).
    }
    return `Branch(${this.name} of ${this.parent.name}, ${where})`;
  }
  [inspect.custom](): string {
    return this.toString();
  }

  private current(): BranchRuntime {
    if (this.destroyed) throw new UsageError(`Branch "${this.name}" was destroyed; create a new branch from its snapshot.`);
    if (!this.runtime) throw new UsageError(`Branch "${this.name}" is not running.`);
    return this.runtime;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.destroyed) return Promise.reject(new UsageError(`Branch "${this.name}" was destroyed; create a new branch from its snapshot.`));
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
