import pg from 'pg';
import { DATABASE, SUPERUSER } from '../drivers/local/settings.js';

/** Client connections to a running branch right now (not counting this check's own), over its unix socket. */
export async function clientConnections(socketDir: string, port: number, password: string): Promise<number> {
  const client = new pg.Client({ host: socketDir, port, user: SUPERUSER, password, database: DATABASE, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      "select count(*)::int as n from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()",
    );
    return rows[0]!.n;
  } finally {
    await client.end().catch(() => undefined);
  }
}
