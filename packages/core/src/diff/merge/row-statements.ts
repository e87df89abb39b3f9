import pg from 'pg';
import type { TargetTable } from './target-tables.js';

/**
 * The batched statements of a merge. Every statement takes its rows as one jsonb array ($1, the rows' `to_jsonb`
 * texts joined) and turns them into typed records with `jsonb_populate_recordset(NULL::table, $1)`: Postgres parses
 * each value with the column's own input function, so numerics, arrays, bytea, timestamps and jsonb round-trip
 * exactly and nothing is parsed in JavaScript.
 */

/** Columns a statement writes: in the rows and in the table, generated columns left out (Postgres computes them). */
export function writableColumns(table: TargetTable, rowColumns: string[]): string[] {
  const inRows = new Set(rowColumns);
  return table.columns.filter((c) => !c.generated && inRows.has(c.name)).map((c) => c.name);
}

/** INSERT of whole rows; identity ALWAYS columns keep the source's values (OVERRIDING SYSTEM VALUE). */
export function insertStatement(table: TargetTable, columns: string[]): string {
  const always = table.columns.some((c) => c.identityAlways && columns.includes(c.name));
  const list = columns.map((c) => pg.escapeIdentifier(c)).join(', ');
  const values = columns.map((c) => `r.${pg.escapeIdentifier(c)}`).join(', ');
  return (
    `INSERT INTO ${table.sql} AS t (${list})${always ? ' OVERRIDING SYSTEM VALUE' : ''} ` +
    `SELECT ${values} FROM jsonb_populate_recordset(NULL::${table.sql}, $1::jsonb) AS r`
  );
}

/**
 * UPDATE by primary key. Key columns are matched, not set (an update never changes its key). Identity ALWAYS columns
 * cannot be set by an UPDATE, so they are left as they are.
 */
export function updateStatement(table: TargetTable, key: string[], columns: string[]): string {
  const always = new Set(table.columns.filter((c) => c.identityAlways).map((c) => c.name));
  const set = columns.filter((c) => !key.includes(c) && !always.has(c));
  // A table of key columns only has nothing to set; setting the first key to itself still finds (and counts) the row.
  const assignments = (set.length > 0 ? set : key.slice(0, 1)).map((c) => `${pg.escapeIdentifier(c)} = r.${pg.escapeIdentifier(c)}`).join(', ');
  return `UPDATE ONLY ${table.sql} AS t SET ${assignments} FROM jsonb_populate_recordset(NULL::${table.sql}, $1::jsonb) AS r WHERE ${keyMatch(key)}`;
}

/** DELETE by primary key; $1 holds the key texts (`{"id": 5}`), which populate a record like any row. */
export function deleteStatement(table: TargetTable, key: string[]): string {
  return `DELETE FROM ONLY ${table.sql} AS t USING jsonb_populate_recordset(NULL::${table.sql}, $1::jsonb) AS r WHERE ${keyMatch(key)}`;
}

/**
 * DELETE of one copy per listed row, for tables without a primary key: the rows of $1 are counted per content, and
 * that many matching rows of the table (by ctid, any of the identical copies) are deleted. Rows match by their
 * `to_jsonb` (as the diff compared them; unlike `row(t.*) =` it works for columns without an equality operator,
 * such as json or point), minus $2 (row keys the table lacks, and generated columns) and $3 (table columns the rows
 * lack, and generated columns).
 */
export function deleteCopiesStatement(table: TargetTable): string {
  return (
    `WITH wanted AS (SELECT e.value - $2::text[] AS content, count(*) AS copies FROM jsonb_array_elements($1::jsonb) AS e GROUP BY 1), ` +
    `found AS (SELECT t.ctid AS tid, w.copies, row_number() OVER (PARTITION BY w.content) AS nth ` +
    `FROM ONLY ${table.sql} AS t JOIN wanted AS w ON to_jsonb(t.*) - $3::text[] = w.content) ` +
    `DELETE FROM ONLY ${table.sql} AS t USING found AS f WHERE t.ctid = f.tid AND f.nth <= f.copies`
  );
}

/** The parameters $2 and $3 of deleteCopiesStatement. */
export function deleteCopiesIgnored(table: TargetTable, rowColumns: string[]): [string[], string[]] {
  const compared = new Set(table.columns.filter((c) => !c.generated).map((c) => c.name));
  const inRows = new Set(rowColumns);
  return [rowColumns.filter((c) => !compared.has(c)), table.columns.filter((c) => !compared.has(c.name) || !inRows.has(c.name)).map((c) => c.name)];
}

/** The keys among $1 (rows or key texts) the table does not have, as key texts, at most 5. */
export function missingKeysStatement(table: TargetTable, key: string[]): string {
  return (
    `SELECT ${keyObject('r', key)}::text AS key FROM jsonb_populate_recordset(NULL::${table.sql}, $1::jsonb) AS r ` +
    `WHERE NOT EXISTS (SELECT 1 FROM ONLY ${table.sql} AS t WHERE ${keyMatch(key)}) ORDER BY 1 LIMIT 5`
  );
}

/** `jsonb_build_object('a', x."a", …)`: the key text of a row, as the diff writes it. */
export function keyObject(alias: string, columns: string[]): string {
  return `jsonb_build_object(${columns.map((c) => `${pg.escapeLiteral(c)}, ${alias}.${pg.escapeIdentifier(c)}`).join(', ')})`;
}

function keyMatch(key: string[]): string {
  return key.map((c) => `t.${pg.escapeIdentifier(c)} = r.${pg.escapeIdentifier(c)}`).join(' AND ');
}

/** Rows in batches of at most `maxRows` rows and about `maxChars` characters, each as one jsonb array text. */
export function* jsonBatches(rows: string[], maxRows = 1000, maxChars = 8 * 1024 * 1024): Generator<{ json: string; count: number }> {
  let batch: string[] = [];
  let chars = 0;
  for (const row of rows) {
    if (batch.length > 0 && (batch.length >= maxRows || chars + row.length > maxChars)) {
      yield { json: `[${batch.join(',')}]`, count: batch.length };
      batch = [];
      chars = 0;
    }
    batch.push(row);
    chars += row.length + 1;
  }
  if (batch.length > 0) yield { json: `[${batch.join(',')}]`, count: batch.length };
}
