import pg from 'pg';
import type { BuildJob } from './build-job.js';
import { DATABASE, SUPERUSER } from './postgres-settings.js';
import { describeCause, PgbranchError } from '../errors.js';
import type { SeedProgress } from './progress.js';
import { runSqlFile } from './sql-runner.js';

/**
 * Runs a recipe against a seeding server, whatever runs it: each SQL file, then init() with a TCP URL (on
 * `tcp.host`, where this host reaches the server: 127.0.0.1 unless a remote Docker engine runs it),
 * then VACUUM (FREEZE, ANALYZE) and a CHECKPOINT.
 *
 * The VACUUM matters for copy-on-write: rows nobody has read since they were written carry no hint
 * bits, so every branch's first scan would set them and dirty every page, and the next checkpoint
 * would rewrite (un-share) the whole table in every branch. Freezing once here keeps branches shared,
 * and ANALYZE gives them planner statistics.
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
    progress.step('checkpoint');
    await client.query('CHECKPOINT');
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** `postgresql://…@HOST:PORT/postgres` for init() (IPv6 hosts in brackets). */
function initUrl(tcp: { host?: string; port: number; password: string }): string {
  const host = tcp.host ?? '127.0.0.1';
  const bracketed = host.includes(':') ? `[${host}]` : host;
  return `postgresql://${SUPERUSER}:${encodeURIComponent(tcp.password)}@${bracketed}:${tcp.port}/${DATABASE}`;
}
