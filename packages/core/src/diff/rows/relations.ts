import type pg from 'pg';

/** A table with storage, as one side of a diff sees it. */
export interface Relation {
  /** `schema.name`, unquoted parts. */
  table: string;
  schema: string;
  name: string;
  oid: number;
  /** The file number of its data: another number on one side means the table was rewritten (TRUNCATE, VACUUM FULL, ALTER … TYPE). */
  filenode: number;
  persistence: 'p' | 'u' | 't';
  /** Data file relative to the data directory (`base/16384/16390`): segments add `.1`, `.2`… */
  path: string;
  /** Size of the main fork in bytes. */
  bytes: number;
  /** Primary-key columns in key order; empty when the table has none. */
  key: string[];
  /** Every column (in table order) and whether it is generated. */
  columns: { name: string; generated: boolean }[];
}

// One query for every user table: storage, key and columns. Partitioned parents hold no rows (their partitions do);
// temporary tables of other sessions are not anyone's business.
const RELATIONS_SQL = `
SELECT c.oid::int AS oid, n.nspname::text AS schema, c.relname::text AS name, c.relfilenode::bigint AS filenode, c.relpersistence AS persistence,
       pg_relation_filepath(c.oid) AS path, pg_relation_size(c.oid, 'main') AS bytes,
       COALESCE((SELECT array_agg(a.attname::text ORDER BY k.ord) FROM pg_index i
                 CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                 WHERE i.indrelid = c.oid AND i.indisprimary), '{}') AS key,
       (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
       (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated <> '') AS generated
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND c.relpersistence <> 't'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname, c.relname`;

interface RelationRow {
  oid: number;
  schema: string;
  name: string;
  filenode: string;
  persistence: 'p' | 'u' | 't';
  path: string;
  bytes: string;
  key: string[];
  columns: string[] | null;
  generated: string[] | null;
}

/** The user tables of the connected database (extension-owned tables left out), by `schema.name`. */
export async function readRelations(client: pg.ClientBase): Promise<Map<string, Relation>> {
  const { rows } = await client.query<RelationRow>(RELATIONS_SQL);
  const out = new Map<string, Relation>();
  for (const r of rows) {
    const generated = new Set(r.generated ?? []);
    const table = `${r.schema}.${r.name}`;
    out.set(table, {
      table,
      schema: r.schema,
      name: r.name,
      oid: r.oid,
      filenode: Number(r.filenode),
      persistence: r.persistence,
      path: r.path,
      bytes: Number(r.bytes),
      key: r.key,
      columns: (r.columns ?? []).map((name) => ({ name, generated: generated.has(name) })),
    });
  }
  return out;
}
