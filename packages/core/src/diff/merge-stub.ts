// Placeholders until the schema merge and the row merge land.
import type { Catalog } from './diff.js';
import type { SchemaChange, SchemaConflict } from './types.js';
export function mergeSchemas(_b: Catalog, _o: Catalog, _t: Catalog): { changes: SchemaChange[]; conflicts: SchemaConflict[] } {
  return { changes: [], conflicts: [] };
}
export function schemaStatements(_changes: SchemaChange[]): string[] {
  return [];
}
