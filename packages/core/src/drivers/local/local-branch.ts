import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { removeClone } from '../../cloners/clone-files.js';
import { removeDir, removeDirSync } from '../../cloners/remove-dir.js';
import type { LocalContext } from '../context.js';
import { logger } from '../../log.js';
import { buildSnapshot } from './local-builder.js';
import type { StoredSnapshot } from '../../snapshot/stored-snapshot.js';
import { hasExited, killSync } from '../../system/proc.js';
import type { BuildJob } from '../../snapshot/build-job.js';
import { DATABASE, SUPERUSER } from '../../snapshot/postgres-settings.js';
import type { BranchAddress, BranchDetails, BranchRuntime } from '../driver.js';
import type { LocalServer } from './local-server.js';
import { cloneSnapshot, startBranchServer } from './branch-server.js';

const log = logger('branch');

/** A branch as a postgres process on a copy-on-write clone of the snapshot's data directory. */
export class LocalBranch implements BranchRuntime {
  private server: LocalServer | undefined;
  /** Kept across suspend/resume, so the branch comes back on its URL. */
  private lastPort: number | undefined;
  /** Settled once: outside the branch directory it lives in the cache's private run directory. */
  readonly socketDir: string;

  private constructor(
    private readonly ctx: LocalContext,
    private readonly parent: StoredSnapshot,
    private readonly id: string,
    private readonly name: string,
  ) {
    this.socketDir = ctx.layout.socketDir(this.dir, ctx.session.id, id);
  }

  /** Clones the snapshot and starts the server. Removes what it made on failure. */
  static async start(ctx: LocalContext, parent: StoredSnapshot, id: string, name: string): Promise<LocalBranch> {
    const branch = new LocalBranch(ctx, parent, id, name);
    try {
      await mkdir(branch.dir, { recursive: true, mode: 0o755 });
      await writeFile(path.join(branch.dir, 'branch.json'), JSON.stringify({ id, name, snapshot: parent.hash, createdAt: new Date().toISOString() }));
      await branch.cloneAndStart();
    } catch (err) {
      await branch.destroy().catch(() => undefined);
      throw err;
    }
    return branch;
  }

  get dir(): string {
    return this.ctx.layout.branch(this.ctx.session.id, this.id);
  }
  get dataDir(): string {
    return path.join(this.dir, 'data');
  }
  get port(): number {
    return this.server?.port ?? this.lastPort ?? this.live().port;
  }
  address(): BranchAddress {
    return { host: '127.0.0.1', port: this.port, database: DATABASE, user: SUPERUSER, password: this.ctx.password, socketDir: this.socketDir };
  }
  details(): BranchDetails {
    return { dir: this.dir, pid: this.server?.pid };
  }
  /** False after suspend(), and when the server died (killed, crashed): resume() or reset() starts it again. */
  get running(): boolean {
    return this.server !== undefined && !hasExited(this.server.pid);
  }

  async reset(): Promise<void> {
    const port = this.port;
    await this.stopServer('immediate');
    await removeClone(this.dataDir);
    await this.cloneAndStart(port);
  }

  async suspend(): Promise<void> {
    await this.stopServer('fast');
  }

  async resume(): Promise<void> {
    if (this.running) return;
    const port = this.port;
    await this.stopServer('immediate'); // a dead server: only forget it
    await this.start(port);
  }

  async snapshot(job: Omit<BuildJob, 'from' | 'files' | 'kind'>): Promise<StoredSnapshot> {
    const port = this.port;
    const wasRunning = this.running;
    await this.stopServer('fast'); // a clean shutdown makes the copy consistent
    try {
      return await buildSnapshot(this.ctx, { ...job, kind: 'branch', files: [], from: this.parent }, this.dataDir);
    } finally {
      if (wasRunning) await this.start(port);
    }
  }

  async destroy(): Promise<void> {
    await this.stopServer('immediate');
    await removeDir(this.dir);
    if (this.socketDir !== path.join(this.dir, 'run')) await removeDir(this.socketDir);
  }

  cleanupSync(): void {
    if (this.server) killSync(this.server.pid, 'SIGQUIT', 3000);
    removeDirSync(this.dir);
    if (this.socketDir !== path.join(this.dir, 'run')) removeDirSync(this.socketDir);
  }

  private async cloneAndStart(port?: number): Promise<void> {
    const t0 = performance.now();
    await cloneSnapshot(this.ctx, this.parent, this.dataDir, this.label);
    log('%s: %s clone in %dms', this.name, this.ctx.cloner.name, Math.round(performance.now() - t0));
    await this.start(port);
  }

  private async start(port?: number): Promise<void> {
    this.server = await startBranchServer(this.ctx, { dir: this.dir, dataDir: this.dataDir, socketDir: this.socketDir, port, label: this.label });
    this.lastPort = this.server.port;
  }

  private get label(): string {
    return `branch "${this.name}" of snapshot "${this.parent.name}"`;
  }

  private async stopServer(mode: 'fast' | 'immediate'): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await server?.stop(mode);
  }

  private live(): LocalServer {
    if (!this.server) throw new Error(`Branch "${this.name}" is not running.`);
    return this.server;
  }
}
