import type pg from 'pg';
import { MergeApplyError } from '../../errors.js';
import type { TableName } from '../types.js';

/** A column of a target table, as the merge's statements need it. */
export interface TargetColumn {
  name: string;
  /** `GENERATED ALWAYS AS (…) STORED` (or virtual): never written, never compared. */
  generated: boolean;
  /** `GENERATED ALWAYS AS IDENTITY`: inserts need OVERRIDING SYSTEM VALUE, updates cannot set it. */
  identityAlways: boolean;
}

/** A table of the merge's target, read from its catalogs after the plan's DDL ran. */
export interface TargetTable {
  name: TableName;
  oid: string;
  /** The quoted, schema-qualified name for SQL text: `"public"."accounts"`. */
  sql: string;
  columns: TargetColumn[];
}

/** Reads the tables the plan writes to; a table missing on the target is an error naming it. */
export async function readTargetTables(client: pg.ClientBase, names: TableName[]): Promise<Map<TableName, TargetTable>> {
  const tables = new Map<TableName, TargetTable>();
  if (names.length === 0) return tables;
  const { rows } = await client.query<{ name: string; oid: string; sql: string; column: string; generated: boolean; identity_always: boolean }>(
    `SELECT n.nspname || '.' || c.relname AS name, c.oid::text AS oid, format('%I.%I', n.nspname, c.relname) AS sql,
            a.attname AS column, a.attgenerated <> '' AS generated, a.attidentity = 'a' AS identity_always
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE n.nspname || '.' || c.relname = ANY($1::text[]) AND c.relkind IN ('r', 'p')
      ORDER BY c.oid, a.attnum`,
    [names],
  );
  for (const r of rows) {
    let table = tables.get(r.name);
    if (!table) tables.set(r.name, (table = { name: r.name, oid: r.oid, sql: r.sql, columns: [] }));
    table.columns.push({ name: r.column, generated: r.generated, identityAlways: r.identity_always });
  }
  const missing = names.filter((n) => !tables.has(n));
  if (missing.length > 0) {
    throw new MergeApplyError(
      `The merge writes rows to ${missing.join(', ')}, which the target does not have (after the merge's schema changes). ` +
        'Nothing was applied. Check the schema changes of the merge (`pgbranch diff`), or create the table on the target first.',
      missing[0],
      'read tables',
    );
  }
  return tables;
}

/** `"name"` for SQL text: the identifier quoted, inner quotes doubled. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `'text'` for SQL text (standard_conforming_strings is on in every supported Postgres). */
export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
