import pg from 'pg';

/** Row counts of a full compare of two databases: every row of every user table read from both sides. */
export interface NaiveCounts {
  [table: string]: { inserted: number; updated: number; deleted: number };
}

const TABLES = `SELECT n.nspname || '.' || c.relname AS table,
  COALESCE((SELECT array_agg(a.attname::text ORDER BY k.ord) FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum WHERE i.indrelid = c.oid AND i.indisprimary), '{}') AS key
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'`;

async function rowsOf(client: pg.Client, table: string, key: string[]): Promise<Map<string, string[]>> {
  const [schema, name] = table.split('.') as [string, string];
  const t = `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(name)}`;
  const k = key.length > 0 ? `jsonb_build_object(${key.map((c) => `${pg.escapeLiteral(c)}, ${pg.escapeIdentifier(c)}`).join(', ')})::text` : 'to_jsonb(x)::text';
  const { rows } = await client.query<{ k: string; r: string }>(`SELECT ${k} AS k, to_jsonb(x)::text AS r FROM ${t} AS x`);
  const out = new Map<string, string[]>();
  for (const row of rows) out.set(row.k, [...(out.get(row.k) ?? []), row.r]);
  return out;
}

/**
 * The oracle for diff tests: reads every row of both sides (the slow, obviously right way) and counts rows inserted,
 * updated and deleted per table (by primary key; whole rows as multisets for tables without one). Tables that
 * exist on one side only are left out (a schema change), as are tables without changes.
 */
export async function naiveDiff(baseUrl: string, headUrl: string): Promise<NaiveCounts> {
  const base = new pg.Client({ connectionString: baseUrl });
  const head = new pg.Client({ connectionString: headUrl });
  await Promise.all([base.connect(), head.connect()]);
  try {
    const baseTables = new Map((await base.query<{ table: string; key: string[] }>(TABLES)).rows.map((r) => [r.table, r.key]));
    const out: NaiveCounts = {};
    for (const { table, key } of (await head.query<{ table: string; key: string[] }>(TABLES)).rows) {
      if (!baseTables.has(table)) continue;
      const [b, h] = await Promise.all([rowsOf(base, table, key), rowsOf(head, table, key)]);
      const counts = { inserted: 0, updated: 0, deleted: 0 };
      for (const [k, rows] of h) {
        const was = b.get(k);
        if (key.length === 0) counts.inserted += Math.max(0, rows.length - (was?.length ?? 0));
        else if (!was) counts.inserted++;
        else if (was[0] !== rows[0]) counts.updated++;
      }
      for (const [k, rows] of b) {
        const now = h.get(k);
        if (key.length === 0) counts.deleted += Math.max(0, rows.length - (now?.length ?? 0));
        else if (!now) counts.deleted++;
      }
      if (counts.inserted + counts.updated + counts.deleted > 0) out[table] = counts;
    }
    return out;
  } finally {
    await Promise.all([base.end(), head.end()]);
  }
}

/** Every row of every user table, by table (sorted), for "nothing changed" checks. */
export async function contents(url: string): Promise<Record<string, string[]>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const out: Record<string, string[]> = {};
    for (const { table } of (await client.query<{ table: string }>(TABLES)).rows) {
      const [schema, name] = table.split('.') as [string, string];
      const { rows } = await client.query<{ r: string }>(`SELECT to_jsonb(x)::text AS r FROM ${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(name)} AS x`);
      out[table] = rows.map((r) => r.r).sort();
    }
    return out;
  } finally {
    await client.end();
  }
}
