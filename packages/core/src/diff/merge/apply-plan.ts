import type pg from 'pg';
import type { MergePlan, TableName } from '../types.js';
import { applyTableOps, type RowCounts } from './apply-rows.js';
import { checkForeignKeys, readForeignKeys, referencedBefore } from './fk-check.js';
import { moveSequences } from './sequences.js';
import { asMergeError, inStep } from './step.js';
import { readTargetTables } from './target-tables.js';

/** How far applyMergePlan got: `done` of `total` (statements for 'schema', rows for 'rows', items otherwise). */
export interface MergeProgress {
  step: 'schema' | 'rows' | 'foreign keys' | 'sequences';
  table?: TableName;
  done: number;
  total: number;
}

export interface ApplyMergeOptions {
  /** Called as the merge advances (after each DDL statement and each batch of rows). */
  onProgress?: (progress: MergeProgress) => void;
}

/**
 * Applies a merge plan to the target in ONE transaction: the schema DDL in order, the row ops of each table in
 * batches, the DDL that checks or indexes rows (constraints, indexes), a check of the foreign keys the rows touched,
 * then the sequences moved forward; COMMIT. Enum labels the plan adds are committed before (`schemaFirst`). Any failure rolls
 * everything back and throws a MergeConstraintError (rows that do not fit: a foreign key, a unique key, a missing row)
 * or a MergeApplyError naming the table and the statement kind, never row values other than keys.
 *
 * Rows are written with `session_replication_role = replica`, so ordinary user triggers and the foreign keys'
 * triggers do not fire: the rows already carry whatever theirs' triggers did when they were written on the source
 * (firing them again would, say, log an audit row twice or bump a counter again), and rows of a parent and its children
 * arrive in table order, not dependency order. Foreign keys are then checked by hand (fk-check.ts). Triggers
 * declared ENABLE ALWAYS or ENABLE REPLICA still fire, as their owners asked. The connection must be a superuser's
 * (pgbranch's own admin connection is) and not inside a transaction of its own.
 */
export async function applyMergePlan(client: pg.ClientBase, plan: MergePlan, options: ApplyMergeOptions = {}): Promise<RowCounts> {
  const progress = options.onProgress ?? (() => {});
  // Enum labels only add: committed first, so that the rows below may use them (see MergePlan.schemaFirst).
  for (const ddl of plan.schemaFirst ?? []) await inStep(undefined, `enum label (${firstLine(ddl)})`, () => client.query(ddl));
  await inStep(undefined, 'BEGIN', () => client.query('BEGIN'));
  try {
    await inStep(undefined, 'SET session_replication_role', () => client.query('SET LOCAL session_replication_role = replica'));
    for (const [i, ddl] of plan.schema.entries()) {
      await inStep(undefined, `schema statement ${i + 1} of ${plan.schema.length} (${firstLine(ddl)})`, () => client.query(ddl));
      progress({ step: 'schema', done: i + 1, total: plan.schema.length });
    }
    const work = plan.tables.filter((t) => t.ops.length > 0);
    const tables = await inStep(undefined, 'read tables', () => readTargetTables(client, work.map((t) => t.table)));
    const fks = await inStep(undefined, 'read foreign keys', () => readForeignKeys(client, [...tables.values()].map((t) => t.oid)));
    const referenced = await referencedBefore(client, fks, tables, work);

    const counts: RowCounts = { inserted: 0, updated: 0, deleted: 0 };
    const total = work.reduce((n, t) => n + t.ops.length, 0);
    let done = 0;
    for (const ops of work) {
      const applied = await applyTableOps(client, tables.get(ops.table)!, ops, (rows) => {
        done += rows;
        progress({ step: 'rows', table: ops.table, done, total });
      });
      counts.inserted += applied.inserted;
      counts.updated += applied.updated;
      counts.deleted += applied.deleted;
    }

    const after = plan.schemaAfterRows ?? [];
    for (const [i, ddl] of after.entries()) {
      await inStep(undefined, `schema statement ${plan.schema.length + i + 1} of ${plan.schema.length + after.length} (${firstLine(ddl)})`, () => client.query(ddl));
      progress({ step: 'schema', done: plan.schema.length + i + 1, total: plan.schema.length + after.length });
    }
    await checkForeignKeys(client, fks, work, referenced);
    progress({ step: 'foreign keys', done: fks.length, total: fks.length });
    await inStep(undefined, 'sequences', () => moveSequences(client, plan.sequences));
    progress({ step: 'sequences', done: plan.sequences.length, total: plan.sequences.length });
    await inStep(undefined, 'COMMIT', () => client.query('COMMIT'));
    return counts;
  } catch (err) {
    // A ROLLBACK that fails (the connection is gone) leaves nothing open either: the server ends the transaction.
    await client.query('ROLLBACK').catch(() => {});
    throw asMergeError(err, undefined, 'merge');
  }
}

/** The first line of a statement, shortened, to name it in an error. */
function firstLine(sql: string): string {
  const line = sql.trim().split('\n', 1)[0]!;
  return line.length > 60 ? `${line.slice(0, 57)}…` : line;
}
