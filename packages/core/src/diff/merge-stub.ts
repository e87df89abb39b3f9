// Placeholders until the schema merge and the row merge land.
import type pg from 'pg';
import type { Catalog } from './diff.js';
import type { MergePlan, RowConflict, SchemaChange, SchemaConflict, TableChanges, TableOps } from './types.js';
export function mergeSchemas(_b: Catalog, _o: Catalog, _t: Catalog): { changes: SchemaChange[]; conflicts: SchemaConflict[] } {
  return { changes: [], conflicts: [] };
}
export function schemaStatements(_changes: SchemaChange[]): string[] {
  return [];
}
export function planRows(_o: TableChanges[], _t: TableChanges[], _s?: 'ours' | 'theirs'): { tables: TableOps[]; conflicts: RowConflict[] } {
  return { tables: [], conflicts: [] };
}
export async function applyMergePlan(_c: pg.ClientBase, _p: MergePlan): Promise<{ inserted: number; updated: number; deleted: number }> {
  return { inserted: 0, updated: 0, deleted: 0 };
}
export async function sequenceValues(_c: pg.ClientBase): Promise<{ name: string; value: string }[]> {
  return [];
}
