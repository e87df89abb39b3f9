import pg from 'pg';
import type { Branch } from '../branch/branch.js';
import { DATABASE, SUPERUSER } from '../drivers/local/settings.js';
import { describeCause } from '../errors.js';
import { logger } from '../log.js';

const log = logger('server');

/** Client backends other than the asking one: the test file's own connections. */
const COUNT_CLIENTS = "select count(*)::int as n from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()";

/**
 * Waits until a released branch has no client connections left (other than the one asking), for at
 * most `timeoutMs`, and returns how many were still open then (0 when they all went away).
 *
 * A file's cleanup often runs unawaited (`afterAll(() => { pool.end() })`): its last queries are still
 * in flight when the file ends. Destroying the branch at once would answer them with a shutting-down
 * server. The count comes from `pg_stat_activity` over one connection (the unix socket where the
 * driver offers one): a single query when the file closed its clients, which is the common case.
 */
export async function drainClients(branch: Branch, timeoutMs: number): Promise<number> {
  if (timeoutMs <= 0) return 0;
  const deadline = performance.now() + timeoutMs;
  const client = new pg.Client(
    branch.socketDir ? { host: branch.socketDir, port: branch.port, user: SUPERUSER, database: DATABASE } : { ...branch.connectionOptions(), connectionTimeoutMillis: timeoutMs },
  );
  client.on('error', () => undefined); // the branch may be gone meanwhile: the awaited calls reject
  try {
    await client.connect();
    let pause = 5;
    for (;;) {
      const { rows } = await client.query<{ n: number }>(COUNT_CLIENTS);
      const open = rows[0]!.n;
      if (open === 0 || performance.now() >= deadline) return open;
      await new Promise((r) => setTimeout(r, Math.min(pause, Math.max(1, deadline - performance.now()))));
      pause = Math.min(pause * 2, 50);
    }
  } catch (err) {
    // Unreachable (suspended, crashed): nothing to wait for.
    log('counting the clients of %s: %s', branch.name, describeCause(err));
    return 0;
  } finally {
    await client.end().catch(() => undefined);
  }
}
