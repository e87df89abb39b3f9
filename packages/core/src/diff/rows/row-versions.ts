import pg from 'pg';
import type { PageRun } from './page-lsns.js';
import type { Relation } from './relations.js';

/** Page ranges scanned per statement (one TID range scan each). */
const RUNS_PER_STATEMENT = 400;
/** Rows fetched by ctid per statement. */
const CTIDS_PER_STATEMENT = 20_000;

/** A table as SQL names it. */
export function qualified(relation: Pick<Relation, 'schema' | 'name'>): string {
  return `${pg.escapeIdentifier(relation.schema)}.${pg.escapeIdentifier(relation.name)}`;
}

/** One version of a row: where it is on this side and what identifies it. */
export interface RowVersion {
  ctid: string;
  /** Pages mode: the inserting transaction (xmin); whole-table mode: a digest of the row's compared content. */
  tag: string;
}

/**
 * The live row versions on the given pages (`runs`), or in the whole table (`runs` undefined). On pages, a version
 * is its ctid and xmin: a row a branch wrote has an xmin no ancestor row has, and a row it did not touch keeps both.
 * Over a whole table (rewritten, or new on one side) ctids mean nothing across the sides: the tag is a digest of
 * the row's content (`compared` SQL), compared as a multiset.
 */
export async function rowVersions(client: pg.ClientBase, relation: Relation, runs: PageRun[] | undefined, compared: string): Promise<RowVersion[]> {
  const table = qualified(relation);
  const out: RowVersion[] = [];
  if (!runs) {
    const { rows } = await client.query<RowVersion>({ text: `SELECT t.ctid::text AS ctid, md5(${compared}) AS tag FROM ONLY ${table} AS t` });
    return rows;
  }
  for (let i = 0; i < runs.length; i += RUNS_PER_STATEMENT) {
    const scans = runs
      .slice(i, i + RUNS_PER_STATEMENT)
      .map(([a, b]) => `SELECT t.ctid::text AS ctid, t.xmin::text AS tag FROM ONLY ${table} AS t WHERE t.ctid >= '(${a},0)'::tid AND t.ctid < '(${b},0)'::tid`);
    const { rows } = await client.query<RowVersion>(scans.join('\nUNION ALL\n'));
    for (const row of rows) out.push(row);
  }
  return out;
}

/** A row read for a diff: key text (null without a primary key), the whole row, and the part compared with the other side. */
export interface RowRead {
  k: string | null;
  r: string;
  c: string;
}

/** SQL for the key text of a row of `t` (`{"id": 5}`), or NULL for tables without a primary key. */
export function keySql(key: string[]): string {
  if (key.length === 0) return 'NULL::text';
  return `jsonb_build_object(${key.map((col) => `${pg.escapeLiteral(col)}, t.${pg.escapeIdentifier(col)}`).join(', ')})::text`;
}

/**
 * SQL for the compared text of a row of `t`: the row without the columns the other side does not have (`dropped`),
 * and without those of `dropWhenNull` that hold NULL (a column only this side has: NULL in it is what the other side's
 * row, without the column, says too; a value in it is a change).
 */
export function comparedSql(dropped: string[], dropWhenNull: string[] = []): string {
  let row = 'to_jsonb(t)';
  if (dropped.length > 0) row = `(${row} - ARRAY[${dropped.map((c) => pg.escapeLiteral(c)).join(', ')}]::text[])`;
  if (dropWhenNull.length > 0) {
    const nulls = dropWhenNull.map((c) => `CASE WHEN t.${pg.escapeIdentifier(c)} IS NULL THEN ${pg.escapeLiteral(c)} END`);
    row = `(${row} - array_remove(ARRAY[${nulls.join(', ')}]::text[], NULL))`;
  }
  return `${row}::text`;
}

/** Reads the rows at the given ctids. */
export async function rowsAt(client: pg.ClientBase, relation: Relation, ctids: string[], compared: string): Promise<RowRead[]> {
  const out: RowRead[] = [];
  const sql = `SELECT ${keySql(relation.key)} AS k, to_jsonb(t)::text AS r, ${compared} AS c FROM ONLY ${qualified(relation)} AS t WHERE t.ctid = ANY($1::tid[])`;
  for (let i = 0; i < ctids.length; i += CTIDS_PER_STATEMENT) {
    const { rows } = await client.query<RowRead>(sql, [ctids.slice(i, i + CTIDS_PER_STATEMENT)]);
    for (const row of rows) out.push(row);
  }
  return out;
}
