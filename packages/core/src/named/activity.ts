import pg from 'pg';

/** Client connections to a running branch right now (not counting this check's own). */
export async function clientConnections(config: pg.ClientConfig): Promise<number> {
  const client = new pg.Client({ ...config, connectionTimeoutMillis: 2000 });
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
