import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { removeDir, removeDirSync } from '../../cloners/remove-dir.js';
import { describeCause, PgbranchError } from '../../errors.js';
import { logger } from '../../log.js';
import { DATABASE, SUPERUSER } from '../../snapshot/postgres-settings.js';
import { hasExited, killSync } from '../../system/proc.js';
import type { LocalContext } from '../context.js';
import { cloneForSnapshot } from '../local/local-builder.js';
import { startBranchServer } from '../local/branch-server.js';
import type { LocalServer } from '../local/local-server.js';
import type { CopyStrategy } from './copy-strategy.js';

const log = logger('template');

/**
 * Admin connections per host, by lane: what a caller waits for ('now': branches created at once by pool refills)
 * and what nobody waits for ('later': spare copies, drops), kept apart so a branch never queues behind them.
 */
const LANES = { now: 3, later: 1 } as const;
type Lane = keyof typeof LANES;

/**
 * One Postgres server for one snapshot, on a clone of the snapshot's data directory (a copy where the cloner is
 * overlay, see start()), in which the snapshot's database is a template and every branch is a database created
 * from it. Its directory is filed under the engine's session like a branch's, so the reaper stops and removes it
 * after its owner died.
 */
export class TemplateHost {
  private readonly admin = new Map<Lane, pg.Pool>();
  private stopping = false;

  private constructor(
    private readonly ctx: LocalContext,
    readonly dir: string,
    readonly socketDir: string,
    private readonly server: LocalServer,
    private readonly strategy: CopyStrategy,
  ) {}

  /**
   * Clones `snapshotDataDir` into `dir`, starts the server (unix socket + 127.0.0.1) and turns the snapshot's
   * database into the template `templateDb`. Removes what it made on failure.
   */
  static async start(ctx: LocalContext, options: { snapshotDataDir: string; dir: string; key: string; label: string; templateDb: string; strategy: CopyStrategy }): Promise<TemplateHost> {
    const { dir } = options;
    const dataDir = path.join(dir, 'data');
    const socketDir = ctx.layout.socketDir(dir, ctx.session.id, options.key);
    let server: LocalServer | undefined;
    // Never over another server's directory: what failed to start here must not remove what runs there.
    if (existsSync(dir)) throw new PgbranchError('PGBRANCH_TEMPLATE_SERVER_DOWN', `The template server directory ${dir} exists already; ${options.label} cannot get a second server.`);
    try {
      await mkdir(dir, { recursive: true, mode: 0o755 });
      // An overlay mount made every CREATE DATABASE ~5x slower (81 ms against 16 ms on a plain copy, 22 MB
      // template, ext4): there the host pays one copy of the snapshot instead. Other cloners clone.
      await cloneForSnapshot(ctx, options.snapshotDataDir, dataDir);
      server = await startBranchServer(
        { ...ctx, settings: { ...ctx.settings, ...options.strategy.settings } },
        { dir, dataDir, socketDir, port: undefined, label: `the template server of ${options.label}` },
      );
      const host = new TemplateHost(ctx, dir, socketDir, server, options.strategy);
      await host.sql(`ALTER DATABASE ${ident(DATABASE)} RENAME TO ${ident(options.templateDb)}`);
      await host.markTemplate(options.templateDb);
      await host.warnOfDatabaseSettings(options.templateDb, options.label);
      return host;
    } catch (err) {
      await server?.stop('immediate').catch(() => undefined);
      await removeDir(dir).catch(() => undefined);
      if (socketDir !== path.join(dir, 'run')) await removeDir(socketDir).catch(() => undefined);
      throw err;
    }
  }

  get port(): number {
    return this.server.port;
  }
  get pid(): number {
    return this.server.pid;
  }
  /** False once stopping, and after the server died. */
  get alive(): boolean {
    return !this.stopping && !hasExited(this.server.pid);
  }

  /** A new database with the content of `template` (which nobody may be connected to). */
  async createDatabase(name: string, template: string, lane: Lane = 'now'): Promise<void> {
    await this.sql(`CREATE DATABASE ${ident(name)} TEMPLATE ${ident(template)}${this.strategy.clause}`, undefined, lane);
  }

  /** Drops a database, ending its sessions (a template database is unmarked first: templates cannot be dropped). */
  async dropDatabase(name: string, lane: Lane = 'now'): Promise<void> {
    const rows = await this.sql('SELECT datistemplate FROM pg_database WHERE datname = $1', [name], lane);
    if (rows[0]?.datistemplate === true) await this.sql(`ALTER DATABASE ${ident(name)} IS_TEMPLATE false`, undefined, lane);
    await this.sql(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`, undefined, lane);
  }

  async exists(name: string): Promise<boolean> {
    return (await this.sql('SELECT 1 FROM pg_database WHERE datname = $1', [name])).length > 0;
  }

  /** Renames a database nobody is connected to. */
  async renameDatabase(name: string, to: string): Promise<void> {
    await this.sql(`ALTER DATABASE ${ident(name)} RENAME TO ${ident(to)}`);
  }

  /**
   * Drops a database after the caller moves on: removing its files is the slow half of a drop (hundreds of ms
   * on a busy ext4), and nothing waits for it. Failures are logged; the database goes with the server anyway.
   */
  dropLater(name: string): void {
    this.dropDatabase(name, 'later').catch((err: unknown) => log('template server %s: dropping %s failed: %s', this.dir, name, describeCause(err)));
  }

  /** Stops (false) or restores (true) connections to a database; stopping also ends the sessions it has. */
  async allowConnections(name: string, allow: boolean): Promise<void> {
    await this.sql(`ALTER DATABASE ${ident(name)} ALLOW_CONNECTIONS ${allow}`);
    if (!allow) await this.terminateSessions(name);
  }

  /** Makes a database a template: no connections, copyable. */
  async markTemplate(name: string): Promise<void> {
    await this.sql(`ALTER DATABASE ${ident(name)} IS_TEMPLATE true ALLOW_CONNECTIONS false`);
    await this.terminateSessions(name);
  }

  /**
   * `CREATE DATABASE … TEMPLATE` copies a database's contents, not its settings (`ALTER DATABASE … SET`,
   * `ALTER ROLE … IN DATABASE … SET`): branches would silently run without them, so the user is told once.
   */
  async warnOfDatabaseSettings(template: string, label: string): Promise<void> {
    const rows = await this.sql('SELECT count(*)::int AS n FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = $1', [template]);
    if (Number(rows[0]?.n ?? 0) === 0) return;
    process.stderr.write(
      `pgbranch: ${label} has database-level settings (ALTER DATABASE … SET, ALTER ROLE … IN DATABASE … SET); ` +
        "the template driver's branches do not carry them (a copied database starts without its template's settings). Use driver 'local', or set them per role or in the server settings.\n",
    );
  }

  async allowsConnections(name: string): Promise<boolean> {
    const rows = await this.sql('SELECT datallowconn FROM pg_database WHERE datname = $1', [name]);
    return rows[0]?.datallowconn === true;
  }

  async databaseSize(name: string): Promise<number> {
    const rows = await this.sql('SELECT pg_database_size($1)::bigint AS size', [name]);
    return Number(rows[0]?.size ?? 0);
  }

  private async terminateSessions(name: string): Promise<void> {
    // pg_terminate_backend with a timeout waits until each session is gone, so a CREATE DATABASE from it follows.
    await this.sql('SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
  }

  /** Stops the server and removes its directory (every database in it goes with it). */
  async stop(): Promise<void> {
    this.stopping = true;
    const pools = [...this.admin.values()];
    this.admin.clear();
    // Not awaited: ending waits for queries in flight, which the server's stop ends anyway.
    for (const pool of pools) pool.end().catch(() => undefined);
    await this.server.stop('immediate');
    await removeDir(this.dir);
    if (this.socketDir !== path.join(this.dir, 'run')) await removeDir(this.socketDir);
    log('template server %s stopped', this.dir);
  }

  stopSync(): void {
    this.stopping = true;
    killSync(this.server.pid, 'SIGQUIT', 3000);
    removeDirSync(this.dir);
    if (this.socketDir !== path.join(this.dir, 'run')) removeDirSync(this.socketDir);
  }

  private async sql(text: string, values?: unknown[], lane: Lane = 'now'): Promise<Array<Record<string, unknown>>> {
    if (!this.alive) throw new PgbranchError('PGBRANCH_TEMPLATE_SERVER_DOWN', `The template server in ${this.dir} is not running (it was stopped or crashed; its server log is ${path.join(this.dir, 'postgres.log')}). Create new branches from a new engine.`);
    let pool = this.admin.get(lane);
    if (!pool) this.admin.set(lane, (pool = this.connect(LANES[lane])));
    const result = await pool.query(text, values);
    return result.rows as Array<Record<string, unknown>>;
  }

  /** Over the unix socket, to template1: the one database that is never a branch's or a snapshot's. */
  private connect(max: number): pg.Pool {
    const pool = new pg.Pool({ host: this.socketDir, port: this.server.port, user: SUPERUSER, password: this.ctx.password, database: 'template1', max });
    pool.on('error', (err) => log('template server %s: admin connection lost: %s', this.dir, describeCause(err)));
    return pool;
  }
}

/** A quoted SQL identifier. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
