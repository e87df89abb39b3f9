import type pg from 'pg';
import { compareSchemas } from '../diff/schema/compare.js';
import { mergeSchemas } from '../diff/schema/merge-schemas.js';
import { schemaStatements } from '../diff/schema/statements.js';
import { planRows, sequenceValues } from '../diff/merge/index.js';
import type { Comparison } from '../diff/diff.js';
import type { MergePlan, MergeStrategy, RowConflict, SchemaChange, SchemaConflict } from '../diff/types.js';


/** What a three-way merge would do to its target, and what it could not decide. */
export interface ThreeWay {
  plan: MergePlan;
  schema: SchemaChange[];
  tables: { table: string; inserted: number; updated: number; deleted: number }[];
  conflicts: { rows: RowConflict[]; schema: SchemaConflict[] };
}

/** True when a side changed nothing since the common ancestor (schema and rows). */
export function unchanged(c: Comparison): boolean {
  return c.tables.length === 0 && compareSchemas(c.base, c.head).length === 0;
}

/**
 * Plans a three-way merge: `ours` (the target) and `theirs` (the source) compared with the same ancestor. Changes on
 * theirs only are applied; the same object or row changed differently on both is a conflict, resolved by `strategy`
 * when given (conflicts are still listed).
 */
export async function planThreeWay(ours: Comparison, theirs: Comparison, source: pg.ClientBase, strategy?: MergeStrategy): Promise<ThreeWay> {
  const merged = mergeSchemas(ours.base, ours.head, theirs.head, { strategy });
  const schema = merged.changes;
  const rows = planRows(
    ours.tables.map((t) => t.changes),
    theirs.tables.map((t) => t.changes),
    strategy,
  );
  const tables = rows.tables
    .filter((t) => t.ops.length > 0)
    .map((t) => {
      const counted = { inserted: 0, updated: 0, deleted: 0 };
      for (const op of t.ops) counted[op.op === 'insert' ? 'inserted' : op.op === 'update' ? 'updated' : 'deleted']++;
      return { table: t.table, ...counted };
    });
  const plan: MergePlan = { schema: schemaStatements(schema), tables: rows.tables, sequences: await sequenceValues(source) };
  return { plan, schema, tables, conflicts: { rows: rows.conflicts, schema: merged.conflicts } };
}
