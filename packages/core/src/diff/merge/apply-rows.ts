import type pg from 'pg';
import { MergeApplyError, MergeConstraintError } from '../../errors.js';
import type { RowOp, TableOps } from '../types.js';
import {
  deleteCopiesIgnored,
  deleteCopiesStatement,
  deleteStatement,
  insertStatement,
  jsonBatches,
  missingKeysStatement,
  updateStatement,
  writableColumns,
} from './row-statements.js';
import { inStep } from './step.js';
import type { TargetTable } from './target-tables.js';

/** Rows a merge wrote. */
export interface RowCounts {
  inserted: number;
  updated: number;
  deleted: number;
}

/**
 * Applies the ops of one table in batches: deletes first, then updates, then inserts, so that a unique value freed by
 * a deleted row can be taken by an inserted one. Every update and delete must find exactly its rows; one the target
 * lacks is a conflict found late, thrown as a MergeConstraintError naming the keys.
 */
export async function applyTableOps(client: pg.ClientBase, table: TargetTable, ops: TableOps, progress: (rows: number) => void): Promise<RowCounts> {
  const of = (op: RowOp['op']) => ops.ops.filter((o) => o.op === op);
  const keyed = ops.key.length > 0;
  const deletes = of('delete');
  const updates = of('update');
  const inserts = of('insert');
  if (deletes.length > 0) {
    if (keyed) await writeChecked(client, table, ops.key, 'delete', deleteStatement(table, ops.key), texts(table, deletes, 'key'), progress);
    else await deleteCopies(client, table, texts(table, deletes, 'row'), progress);
  }
  if (updates.length > 0) {
    if (!keyed) throw new MergeApplyError(`The merge plan updates rows of ${table.name}, which has no key to find them by.`, table.name, 'update');
    const rows = texts(table, updates, 'row');
    await writeChecked(client, table, ops.key, 'update', updateStatement(table, ops.key, writableColumns(table, columnsOf(rows[0]!))), rows, progress);
  }
  if (inserts.length > 0) {
    const rows = texts(table, inserts, 'row');
    const sql = insertStatement(table, writableColumns(table, columnsOf(rows[0]!)));
    for (const batch of jsonBatches(rows)) {
      await inStep(table.name, 'insert', () => client.query(sql, [batch.json]));
      progress(batch.count);
    }
  }
  return { inserted: inserts.length, updated: updates.length, deleted: deletes.length };
}

/** Runs an update or delete by key, batch by batch, and checks each found all its rows. */
async function writeChecked(
  client: pg.ClientBase,
  table: TargetTable,
  key: string[],
  kind: 'update' | 'delete',
  sql: string,
  rows: string[],
  progress: (rows: number) => void,
): Promise<void> {
  for (const batch of jsonBatches(rows)) {
    const result = await inStep(table.name, kind, () => client.query(sql, [batch.json]));
    if (result.rowCount !== batch.count) {
      const missing = await inStep(table.name, kind, () => client.query<{ key: string }>(missingKeysStatement(table, key), [batch.json]));
      const keys = missing.rows.map((r) => r.key);
      throw new MergeConstraintError(
        `The merge cannot ${kind} ${batch.count - (result.rowCount ?? 0)} row(s) of ${table.name}: the target has no row with the key ` +
          `${keys.join(', ')}${batch.count - (result.rowCount ?? 0) > keys.length ? ', …' : ''}. The target changed since the merge compared it ` +
          '(or the row was changed on both sides unseen). Nothing was applied; run the merge again.',
        table.name,
        undefined,
        keys,
      );
    }
    progress(batch.count);
  }
}

/** Deletes one copy per row text (tables without a primary key). Row contents are not shown: they may hold secrets. */
async function deleteCopies(client: pg.ClientBase, table: TargetTable, rows: string[], progress: (rows: number) => void): Promise<void> {
  const sql = deleteCopiesStatement(table);
  const [fromRows, fromTable] = deleteCopiesIgnored(table, columnsOf(rows[0]!));
  for (const batch of jsonBatches(rows)) {
    const result = await inStep(table.name, 'delete', () => client.query(sql, [batch.json, fromRows, fromTable]));
    if (result.rowCount !== batch.count) {
      throw new MergeConstraintError(
        `The merge cannot delete ${batch.count - (result.rowCount ?? 0)} of ${batch.count} row(s) of ${table.name} (a table without a primary key): ` +
          'the target no longer has that many copies of them. The target changed since the merge compared it. Nothing was applied; run the merge again.',
        table.name,
        undefined,
        [],
      );
    }
    progress(batch.count);
  }
}

function texts(table: TargetTable, ops: RowOp[], field: 'key' | 'row'): string[] {
  return ops.map((o) => {
    const text = o[field];
    if (text === null) throw new MergeApplyError(`The merge plan has a ${o.op} of ${table.name} without its ${field}.`, table.name, o.op);
    return text;
  });
}

/** The column names of a row text (rows of one table all come from one `to_jsonb`, so the first one speaks for all). */
function columnsOf(row: string): string[] {
  return Object.keys(JSON.parse(row) as Record<string, unknown>);
}
