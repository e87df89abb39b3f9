import { randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { inspect } from 'node:util';
import { overlayLayers } from '../cloners/overlay-cloner.js';
import { removeDir, removeDirSync } from '../cloners/remove-dir.js';
import { startServer, type LocalServer } from '../drivers/local/local-server.js';
import { DATABASE, SUPERUSER } from '../drivers/local/settings.js';
import type { EngineContext } from '../engine/context.js';
import { CloneError, describeCause, hintFor, UsageError } from '../errors.js';
import { logger } from '../log.js';
import { giveTo } from '../system/run-as.js';
import { killSync } from '../system/proc.js';
import { buildSnapshot } from '../snapshot/seeder.js';
import { Snapshot } from '../snapshot/snapshot.js';

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

/** A writable, running Postgres cloned copy-on-write from a snapshot. Dispose (or destroy) it when done. */
export class Branch implements AsyncDisposable {
  readonly id: string;
  readonly name: string;
  private server: LocalServer | undefined;
  private destroyed = false;
  private queue: Promise<unknown> = Promise.resolve();
  private untrack: () => void = () => undefined;

  private constructor(
    private readonly ctx: EngineContext,
    /** The snapshot this branch was made from (and that reset() returns to). */
    readonly parent: Snapshot,
    id: string,
    name: string,
  ) {
    this.id = id;
    this.name = name;
  }

  /** @internal Clones the snapshot and starts the server. Leaves nothing behind on failure. */
  static async create(ctx: EngineContext, parent: Snapshot, options: BranchOptions): Promise<Branch> {
    const id = randomBytes(4).toString('hex');
    const branch = new Branch(ctx, parent, id, options.name ?? id);
    branch.untrack = ctx.track({ cleanupSync: () => branch.cleanupSync(), dispose: () => branch.destroy() });
    try {
      await mkdir(branch.dir, { recursive: true, mode: 0o755 });
      await writeFile(
        path.join(branch.dir, 'branch.json'),
        JSON.stringify({ id, name: branch.name, snapshot: parent.hash, createdAt: new Date().toISOString() }),
      );
      await branch.cloneAndStart();
    } catch (err) {
      await branch.destroy().catch(() => undefined);
      throw err;
    }
    return branch;
  }

  /** The branch's directory in the cache: data, socket and server log. */
  get dir(): string {
    return this.ctx.layout.branch(this.ctx.session.id, this.id);
  }
  get dataDir(): string {
    return path.join(this.dir, 'data');
  }
  /** Directory of the unix socket (connect with host set to it). */
  get socketDir(): string {
    return this.ctx.layout.socketDir(this.dir, this.ctx.session.id, this.id);
  }
  get port(): number {
    return this.requireServer().port;
  }
  /** Server process id. */
  get pid(): number {
    return this.requireServer().pid;
  }
  /** `postgresql://postgres:…@127.0.0.1:PORT/postgres`: works with pg, psql, Prisma, Drizzle. Contains the password. */
  get url(): string {
    const c = this.connectionOptions();
    return `postgresql://${c.user}:${encodeURIComponent(c.password)}@${c.host}:${c.port}/${c.database}`;
  }
  connectionOptions(): ConnectionOptions {
    return { host: '127.0.0.1', port: this.port, user: SUPERUSER, password: this.ctx.password, database: DATABASE };
  }
  get isDestroyed(): boolean {
    return this.destroyed;
  }

  /** Throws away every change: the branch returns to its snapshot's state on the same URL. */
  reset(): Promise<void> {
    return this.serial(async () => {
      const port = this.port;
      await this.stopServer('immediate');
      await this.removeData();
      await this.cloneAndStart(port);
    });
  }

  /** Takes a snapshot of the branch's current state (branch of a branch). It lives as long as this engine. */
  snapshot(options: { name?: string } = {}): Promise<Snapshot> {
    return this.serial(async () => {
      const port = this.port;
      await this.stopServer('fast'); // a clean shutdown makes the copy consistent
      try {
        const hash = `${this.parent.hash.slice(0, 12)}-${this.id}-${randomBytes(3).toString('hex')}`;
        const meta = await buildSnapshot(this.ctx, {
          name: options.name ?? `${this.name}-snapshot`,
          hash,
          kind: 'branch',
          from: { dataDir: this.dataDir, hash: this.parent.hash },
          files: [],
          ephemeralOwner: this.ctx.session.id,
        });
        const snapshotDir = this.ctx.layout.snapshot(hash);
        this.ctx.track({ cleanupSync: () => removeDirSync(snapshotDir), dispose: () => removeDir(snapshotDir) });
        return new Snapshot(this.ctx, meta, false);
      } finally {
        await this.start(port);
      }
    });
  }

  /**
   * Leaves this branch running after its engine closes or the process exits (to inspect a failed
   * test). The next engine on the same cache directory, or `pgbranch gc`, removes it.
   */
  keep(): void {
    this.untrack();
    this.untrack = () => undefined;
  }

  /** Stops the server and removes the clone. Safe to call twice. */
  destroy(): Promise<void> {
    if (this.destroyed) return this.queue.then(() => undefined, () => undefined);
    this.destroyed = true;
    const done = this.queue.then(
      () => this.teardown(),
      () => this.teardown(),
    );
    this.queue = done;
    return done;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy();
  }

  /** Redacted: the password never reaches logs through a printed branch. */
  toString(): string {
    return `Branch(${this.name} of ${this.parent.name}, ${this.server ? `127.0.0.1:${this.server.port}` : 'stopped'})`;
  }
  [inspect.custom](): string {
    return this.toString();
  }

  private async teardown(): Promise<void> {
    this.untrack();
    await this.stopServer('immediate');
    await removeDir(this.dir);
    if (this.socketDir !== path.join(this.dir, 'run')) await removeDir(this.socketDir);
    log('%s destroyed', this.name);
  }

  /** Exit-time cleanup when the engine was not disposed. */
  private cleanupSync(): void {
    if (this.server) killSync(this.server.pid, 'SIGQUIT', 3000);
    removeDirSync(this.dir);
    if (this.socketDir !== path.join(this.dir, 'run')) removeDirSync(this.socketDir);
  }

  private async cloneAndStart(port?: number): Promise<void> {
    const t0 = performance.now();
    try {
      await this.ctx.cloner.clone(this.parent.dataDir, this.dataDir, this.ctx.runAs);
      log('%s: %s clone in %dms', this.name, this.ctx.cloner.name, Math.round(performance.now() - t0));
    } catch (err) {
      throw new CloneError(
        `Branch "${this.name}" of snapshot "${this.parent.name}": the ${this.ctx.cloner.name} clone failed: ${describeCause(err)}.${hintFor(err)}`,
        { cause: err },
      );
    }
    await mkdir(this.socketDir, { recursive: true, mode: 0o700 });
    await chmod(this.socketDir, 0o700);
    await giveTo(this.ctx.runAs, this.socketDir);
    await this.start(port);
  }

  private async start(port?: number): Promise<void> {
    this.server = await startServer(this.ctx.binaries, {
      dataDir: this.dataDir,
      socketDir: this.socketDir,
      logFile: path.join(this.dir, 'postgres.log'),
      settings: this.ctx.settings,
      runAs: this.ctx.runAs,
      port,
      label: `branch "${this.name}" of snapshot "${this.parent.name}"`,
    });
  }

  private async stopServer(mode: 'fast' | 'immediate'): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await server?.stop(mode);
  }

  private async removeData(): Promise<void> {
    await removeDir(this.dataDir);
    await removeDir(path.dirname(overlayLayers(this.dataDir).upper));
  }

  private requireServer(): LocalServer {
    if (this.destroyed) throw new UsageError(`Branch "${this.name}" was destroyed; create a new branch from its snapshot.`);
    if (!this.server) throw new UsageError(`Branch "${this.name}" is not running.`);
    return this.server;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.destroyed) return Promise.reject(new UsageError(`Branch "${this.name}" was destroyed; create a new branch from its snapshot.`));
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
