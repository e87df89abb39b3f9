import type pg from 'pg';
import { MergeConstraintError } from '../../errors.js';
import type { TableName, TableOps } from '../types.js';
import { jsonBatches, keyObject } from './row-statements.js';
import { inStep } from './step.js';
import { quoteIdent, quoteLiteral, type TargetTable } from './target-tables.js';

/**
 * Foreign keys, checked by hand: a merge writes with session_replication_role = replica, which also silences the
 * foreign keys' own triggers. Only what the merge touched is checked: the rows it wrote into a referencing table, and
 * the rows still referencing a parent row it deleted (or whose referenced columns it updated).
 */
export interface ForeignKey {
  name: string;
  /** confmatchtype: 'f' (MATCH FULL), 's' (SIMPLE), 'p' (PARTIAL, not implemented by Postgres). */
  match: string;
  child: TableName;
  childSql: string;
  parent: TableName;
  parentSql: string;
  /** Referencing columns of the child, in the order of `refColumns` of the parent. */
  columns: string[];
  refColumns: string[];
}

/** Foreign keys whose referencing or referenced table is one of `oids`. */
export async function readForeignKeys(client: pg.ClientBase, oids: string[]): Promise<ForeignKey[]> {
  if (oids.length === 0) return [];
  const columnsOf = (keys: string, rel: string) =>
    `ARRAY(SELECT a.attname::text FROM unnest(con.${keys}) WITH ORDINALITY AS k(num, i) JOIN pg_attribute a ON a.attrelid = con.${rel} AND a.attnum = k.num ORDER BY k.i)`;
  const { rows } = await client.query<ForeignKey>(
    `SELECT con.conname AS name, con.confmatchtype AS match,
            cn.nspname || '.' || cc.relname AS child, format('%I.%I', cn.nspname, cc.relname) AS "childSql",
            pn.nspname || '.' || pc.relname AS parent, format('%I.%I', pn.nspname, pc.relname) AS "parentSql",
            ${columnsOf('conkey', 'conrelid')} AS columns, ${columnsOf('confkey', 'confrelid')} AS "refColumns"
       FROM pg_constraint con
       JOIN pg_class cc ON cc.oid = con.conrelid JOIN pg_namespace cn ON cn.oid = cc.relnamespace
       JOIN pg_class pc ON pc.oid = con.confrelid JOIN pg_namespace pn ON pn.oid = pc.relnamespace
      WHERE con.contype = 'f' AND (con.conrelid = ANY($1::oid[]) OR con.confrelid = ANY($1::oid[]))
      ORDER BY 3, 1`,
    [oids],
  );
  return rows;
}

/**
 * Before the row ops run: for each foreign key, the values of its referenced columns in the parent rows the merge
 * will delete or update, as jsonb texts of the parent's columns. Read from the key texts where the referenced columns
 * are the parent's key (an update never changes its key), from the delete ops' rows for tables without a key, else
 * from the parent rows themselves.
 */
export async function referencedBefore(client: pg.ClientBase, fks: ForeignKey[], tables: Map<TableName, TargetTable>, plan: TableOps[]): Promise<Map<ForeignKey, string[]>> {
  const byTable = new Map(plan.map((t) => [t.table, t]));
  const found = new Map<ForeignKey, string[]>();
  for (const fk of fks) {
    const ops = byTable.get(fk.parent);
    if (!ops) continue;
    const deletes = ops.ops.filter((o) => o.op === 'delete');
    if (ops.key.length === 0) {
      found.set(fk, deletes.map((o) => o.row ?? '{}'));
      continue;
    }
    if (fk.refColumns.every((c) => ops.key.includes(c))) {
      found.set(fk, deletes.map((o) => o.key ?? '{}'));
      continue;
    }
    const rows = ops.ops.filter((o) => o.op !== 'insert').map((o) => (o.op === 'delete' ? o.key : o.row) ?? '{}');
    const parent = tables.get(fk.parent)!;
    const match = ops.key.map((c) => `t.${quoteIdent(c)} = r.${quoteIdent(c)}`).join(' AND ');
    const sql =
      `SELECT DISTINCT ${keyObject('t', fk.refColumns)}::text AS v FROM ${parent.sql} AS t ` +
      `JOIN jsonb_populate_recordset(NULL::${parent.sql}, $1::jsonb) AS r ON ${match}`;
    const values: string[] = [];
    for (const batch of jsonBatches(rows)) {
      const result = await inStep(fk.parent, `foreign key ${fk.name}`, () => client.query<{ v: string }>(sql, [batch.json]));
      values.push(...result.rows.map((r) => r.v));
    }
    found.set(fk, values);
  }
  return found;
}

/**
 * After the row ops: throws a MergeConstraintError for the first foreign key left with a referencing row whose parent
 * row is missing, naming up to 5 missing parent keys.
 */
export async function checkForeignKeys(client: pg.ClientBase, fks: ForeignKey[], plan: TableOps[], referenced: Map<ForeignKey, string[]>): Promise<void> {
  const byTable = new Map(plan.map((t) => [t.table, t]));
  for (const fk of fks) {
    const written = (byTable.get(fk.child)?.ops ?? []).filter((o) => o.op !== 'delete' && o.row !== null).map((o) => o.row!);
    const missing = new Set<string>();
    for (const batch of jsonBatches(written)) {
      for (const key of await violations(client, fk, writtenRowsStatement(fk), batch.json)) missing.add(key);
    }
    for (const batch of jsonBatches(referenced.get(fk) ?? [])) {
      for (const key of await violations(client, fk, remainingChildrenStatement(fk), batch.json)) missing.add(key);
    }
    if (missing.size > 0) throw violated(fk, [...missing].sort());
  }
}

async function violations(client: pg.ClientBase, fk: ForeignKey, sql: string, json: string): Promise<string[]> {
  const result = await inStep(fk.child, `foreign key ${fk.name}`, () => client.query<{ key: string }>(sql, [json]));
  return result.rows.map((r) => r.key);
}

/** Rows the merge wrote into the child ($1) whose parent row is missing, as the parent's key text. */
function writtenRowsStatement(fk: ForeignKey): string {
  const r = fk.columns.map((c) => `r.${quoteIdent(c)}`);
  // MATCH SIMPLE: a row with a null in the referencing columns is not checked; MATCH FULL: only an all-null row.
  const checked = r.map((c) => `${c} IS NOT NULL`).join(fk.match === 'f' ? ' OR ' : ' AND ');
  return (
    `SELECT DISTINCT ${parentKey(fk, 'r')}::text AS key FROM jsonb_populate_recordset(NULL::${fk.childSql}, $1::jsonb) AS r ` +
    `WHERE (${checked}) AND NOT EXISTS (SELECT 1 FROM ${fk.parentSql} AS p WHERE ${parentMatch(fk, 'r')}) ORDER BY 1 LIMIT 5`
  );
}

/** Child rows referencing the parent values $1 (parent rows deleted or changed) that no parent row has now. */
function remainingChildrenStatement(fk: ForeignKey): string {
  const values = fk.refColumns.map((c) => `v.${quoteIdent(c)}`).join(', ');
  const join = fk.columns.map((c, i) => `c.${quoteIdent(c)} = v.${quoteIdent(fk.refColumns[i]!)}`).join(' AND ');
  return (
    `SELECT DISTINCT ${parentKey(fk, 'c')}::text AS key FROM ${fk.childSql} AS c ` +
    `JOIN (SELECT DISTINCT ${values} FROM jsonb_populate_recordset(NULL::${fk.parentSql}, $1::jsonb) AS v) AS v ON ${join} ` +
    `WHERE NOT EXISTS (SELECT 1 FROM ${fk.parentSql} AS p WHERE ${parentMatch(fk, 'c')}) ORDER BY 1 LIMIT 5`
  );
}

/** The parent key a child row references, named by the parent's columns: `{"id": 7}`. */
function parentKey(fk: ForeignKey, alias: string): string {
  return `jsonb_build_object(${fk.columns.map((c, i) => `${quoteLiteral(fk.refColumns[i]!)}, ${alias}.${quoteIdent(c)}`).join(', ')})`;
}

function parentMatch(fk: ForeignKey, alias: string): string {
  return fk.columns.map((c, i) => `p.${quoteIdent(fk.refColumns[i]!)} = ${alias}.${quoteIdent(c)}`).join(' AND ');
}

function violated(fk: ForeignKey, keys: string[]): MergeConstraintError {
  const shown = keys.slice(0, 5);
  return new MergeConstraintError(
    `The merge would leave rows of ${fk.child} without their parent row in ${fk.parent} (foreign key ${fk.name}); missing ${fk.parent} ` +
      `key(s): ${shown.join(', ')}${keys.length > shown.length ? ', …' : ''}. Nothing was applied. Resolve it on the source branch ` +
      '(or the target): restore the parent rows, or delete or repoint the rows that reference them, then merge again; ' +
      'if the rows were changed on both sides, --strategy ours|theirs chooses which side wins.',
    fk.child,
    fk.name,
    shown,
  );
}
