import pg from 'pg';
import type { ClientSettings } from '../drivers/address.js';

/**
 * Session settings that make values print the same on every server (rows are compared as text across servers): a
 * branch that set its own TimeZone or IntervalStyle after its snapshot would otherwise differ in every such value.
 */
const SAME_TEXT = '-c TimeZone=UTC -c IntervalStyle=postgres -c DateStyle=ISO,MDY -c extra_float_digits=1 -c bytea_output=hex';

/**
 * Runs `fn` with one connection to each server, closed afterwards whatever happens. Connections say who they are
 * (`application_name`) so that a person looking at pg_stat_activity knows. A server that goes away fails the query
 * in progress; it does not crash the process (an idle client's 'error' event is handled).
 */
export async function withClients<T>(settings: ClientSettings[], fn: (clients: pg.Client[]) => Promise<T>): Promise<T> {
  const clients = settings.map((s) => new pg.Client({ ...s, application_name: 'pgbranch diff', options: SAME_TEXT, connectionTimeoutMillis: 30_000 }));
  for (const c of clients) c.on('error', () => undefined);
  try {
    await Promise.all(clients.map((c) => c.connect()));
    return await fn(clients);
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }
}

/**
 * The server's transaction snapshot (`xmin:xmax:in-progress`): it moves when a transaction that writes starts or ends
 * (reads and CHECKPOINT take no transaction id), so the same text later means nothing was written in between.
 */
export async function currentSnapshot(client: pg.ClientBase): Promise<string> {
  const { rows } = await client.query<{ s: string }>('SELECT pg_current_snapshot()::text AS s');
  return rows[0]!.s;
}
