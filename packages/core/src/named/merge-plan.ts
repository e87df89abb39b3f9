import type pg from 'pg';
import { compareSchemas } from '../diff/schema/compare.js';
import { mergeSchemas } from '../diff/schema/merge-schemas.js';
import { mergeStatements } from '../diff/schema/statements.js';
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

function droppedTables(c: Comparison): string[] {
  return compareSchemas(c.base, c.head)
    .filter((s) => s.kind === 'table' && s.change === 'dropped')
    .map((s) => s.id);
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
  let schema = merged.changes;
  const rows = planRows(
    ours.tables.map((t) => t.changes),
    theirs.tables.map((t) => t.changes),
    strategy,
  );
  // A table dropped on one side whose rows the other side changed: a conflict on the table. 'ours' keeps the target's
  // side (its table, or its drop); otherwise the source's drop applies, and the source's rows of a table the target
  // dropped are not applied (the table is not brought back).
  const key = (table: string) => `table:${table}`;
  for (const table of droppedTables(theirs)) {
    if (!ours.tables.some((t) => t.changes.table === table)) continue;
    merged.conflicts.push({ kind: 'table', id: table, base: ours.base.get(key(table)), ours: ours.head.get(key(table)) });
    if (strategy === 'ours') schema = schema.filter((c) => !(c.kind === 'table' && c.id === table));
  }
  for (const table of droppedTables(ours)) {
    if (!theirs.tables.some((t) => t.changes.table === table)) continue;
    merged.conflicts.push({ kind: 'table', id: table, base: ours.base.get(key(table)), theirs: theirs.head.get(key(table)) });
    rows.tables = rows.tables.filter((t) => t.table !== table);
    rows.conflicts = rows.conflicts.filter((c) => c.table !== table);
  }
  const tables = rows.tables
    .filter((t) => t.ops.length > 0)
    .map((t) => {
      const counted = { inserted: 0, updated: 0, deleted: 0 };
      for (const op of t.ops) counted[op.op === 'insert' ? 'inserted' : op.op === 'update' ? 'updated' : 'deleted']++;
      return { table: t.table, ...counted };
    });
  const ddl = mergeStatements(schema);
  const plan: MergePlan = { schema: ddl.beforeRows, schemaFirst: ddl.first, schemaAfterRows: ddl.afterRows, tables: rows.tables, sequences: await sequenceValues(source) };
  return { plan, schema, tables, conflicts: { rows: rows.conflicts, schema: merged.conflicts } };
}
