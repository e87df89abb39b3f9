// Placeholder until the schema reader lands: an empty catalog.
import type pg from 'pg';
import type { SchemaChange, SchemaObject } from './types.js';
export async function readCatalog(_client: pg.ClientBase): Promise<Map<string, SchemaObject>> {
  return new Map();
}
export function compareSchemas(_a: Map<string, SchemaObject>, _b: Map<string, SchemaObject>): SchemaChange[] {
  return [];
}
