import pg from 'pg';
import type { ClientSettings } from '../drivers/address.js';

/**
 * Runs `fn` with one connection to each server, closed afterwards whatever happens. Connections say who they are
 * (`application_name`) so that a person looking at pg_stat_activity knows.
 */
export async function withClients<T>(settings: ClientSettings[], fn: (clients: pg.Client[]) => Promise<T>): Promise<T> {
  const clients = settings.map((s) => new pg.Client({ ...s, application_name: 'pgbranch diff' }));
  try {
    await Promise.all(clients.map((c) => c.connect()));
    return await fn(clients);
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }
}
