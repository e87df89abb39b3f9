import pg from 'pg';
import type { BuildJob } from './build-job.js';
import { DATABASE, SUPERUSER } from './postgres-settings.js';
import { describeCause, PgbranchError } from '../errors.js';
import type { SeedProgress } from './progress.js';
import { runSqlFile } from './sql-runner.js';

/**
 * Runs a recipe against a seeding server, whatever runs it: each SQL file, then init() with a TCP URL (on
 * `tcp.host`, where this host reaches the server: 127.0.0.1 unless a remote Docker engine runs it),
 * then VACUUM (FREEZE, ANALYZE), the catalog cache files written, and a CHECKPOINT.
 *
 * The VACUUM matters for copy-on-write: rows nobody has read since they were written carry no hint
 * bits, so every branch's first scan would set them and dirty every page, and the next checkpoint
 * would rewrite (un-share) the whole table in every branch. Freezing once here keeps branches shared,
 * and ANALYZE gives them planner statistics.
 *
 * The catalog cache files (`pg_internal.init`, see writeCatalogCacheFiles) are written last, after every
 * catalog change: a branch starts from the snapshot's files, so they are written once here instead of once
 * per branch by its first connection.
 */
export async function applyRecipe(
  job: BuildJob,
  connection: pg.ClientConfig,
  tcp: { host?: string; port: number; password: string },
  progress: SeedProgress,
): Promise<void> {
  const client = new pg.Client(connection);
  client.on('error', () => undefined); // a server that dies mid-seed rejects the running query instead
  await client.connect();
  try {
    for (const [i, file] of job.files.entries()) {
      progress.step(`${file.display} (${i + 1}/${job.files.length})`);
      await runSqlFile(client, file, job.name);
    }
    if (job.init) {
      progress.step('init()');
      try {
        await job.init(initUrl(tcp));
      } catch (err) {
        throw new PgbranchError('PGBRANCH_INIT_FAILED', `Snapshot "${job.name}": init() failed: ${describeCause(err)}. Nothing was cached.`, { cause: err });
      }
    }
    progress.step('vacuum (freeze, analyze)');
    await client.query('VACUUM (FREEZE, ANALYZE)');
    progress.step('catalog cache files');
    await writeCatalogCacheFiles(client, connection);
    progress.step('checkpoint');
    await client.query('CHECKPOINT');
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Connects once to each database that takes connections. A backend that finds no relation cache init file
 * (`global/pg_internal.init`, `base/<oid>/pg_internal.init`) builds its catalog caches from the catalogs and
 * writes the file; Postgres keeps these files across a clean shutdown and start, so every branch's first
 * connection reads them instead of rebuilding (about half of that connection's server CPU). A catalog change
 * after this would delete them again, which is why it runs after the recipe and the VACUUM.
 */
async function writeCatalogCacheFiles(client: pg.Client, connection: pg.ClientConfig): Promise<void> {
  const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datallowconn ORDER BY datname');
  for (const { datname } of rows) {
    const other = new pg.Client({ ...connection, database: datname });
    other.on('error', () => undefined);
    await other.connect();
    await other.end();
  }
}

/** `postgresql://…@HOST:PORT/postgres` for init() (IPv6 hosts in brackets). */
function initUrl(tcp: { host?: string; port: number; password: string }): string {
  const host = tcp.host ?? '127.0.0.1';
  const bracketed = host.includes(':') ? `[${host}]` : host;
  return `postgresql://${SUPERUSER}:${encodeURIComponent(tcp.password)}@${bracketed}:${tcp.port}/${DATABASE}`;
}
