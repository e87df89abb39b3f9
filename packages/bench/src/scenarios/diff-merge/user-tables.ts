import type pg from 'pg';

/** A table with rows of its own (not a partitioned parent), and its primary key. */
export interface UserTable {
  /** Quoted, schema-qualified: `public.bulk`, `"Sales"."Order"`. */
  sql: string;
  /** Primary-key columns, quoted, in key order (empty: the table has none). */
  key: string[];
  /** Whether each key column is an integer type (ordered and compared as numbers; every other type as text). */
  integer: boolean[];
}

/** The ordinary tables outside the system schemas, by name. */
export async function userTables(client: pg.Client): Promise<UserTable[]> {
  const { rows } = await client.query<{ sql: string; key: string[] | null; integer: boolean[] | null }>(
    `select format('%I.%I', n.nspname, c.relname) as sql,
            (select array_agg(quote_ident(a.attname) order by k.ord)
               from pg_index i, unnest(i.indkey) with ordinality k(attnum, ord), pg_attribute a
              where i.indrelid = c.oid and i.indisprimary and a.attrelid = c.oid and a.attnum = k.attnum) as key,
            (select array_agg(a.atttypid in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype) order by k.ord)
               from pg_index i, unnest(i.indkey) with ordinality k(attnum, ord), pg_attribute a
              where i.indrelid = c.oid and i.indisprimary and a.attrelid = c.oid and a.attnum = k.attnum) as integer
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind = 'r' and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'
      order by 1`,
  );
  return rows.map((r) => ({ sql: r.sql, key: r.key ?? [], integer: r.integer ?? [] }));
}
