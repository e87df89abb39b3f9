import type { SchemaChange, SchemaObject, SchemaObjectKind } from '../types.js';
import { objectKey } from './catalog.js';

/** The order changes are listed in: by kind, then by id. */
export const KIND_ORDER: readonly SchemaObjectKind[] = ['extension', 'schema', 'type', 'sequence', 'table', 'column', 'constraint', 'index', 'function', 'view', 'trigger'];

/** Orders by kind (KIND_ORDER), then id. */
export const byKindAndId = (a: { kind: SchemaObjectKind; id: string }, b: { kind: SchemaObjectKind; id: string }): number =>
  KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Sorts changes by kind (KIND_ORDER), then id. */
export function sortChanges(changes: SchemaChange[]): SchemaChange[] {
  return changes.sort(byKindAndId);
}

/** Every object that differs, one change each (nothing folded into its table), sorted. */
export function objectChanges(before: Map<string, SchemaObject>, after: Map<string, SchemaObject>): SchemaChange[] {
  const changes: SchemaChange[] = [];
  for (const [key, old] of before) {
    const now = after.get(key);
    if (!now) changes.push({ change: 'dropped', kind: old.kind, id: old.id, before: old });
    else if (now.definition !== old.definition) changes.push({ change: 'changed', kind: now.kind, id: now.id, before: old, after: now });
  }
  for (const [key, now] of after) if (!before.has(key)) changes.push({ change: 'added', kind: now.kind, id: now.id, after: now });
  return sortChanges(renamedColumns(changes));
}

/**
 * A column dropped and a column added in one table at the same attribute number is one column renamed (a dropped
 * column's number is never reused): one change, so that applying it renames the column and keeps its values.
 */
function renamedColumns(changes: SchemaChange[]): SchemaChange[] {
  const dropped = new Map<string, SchemaChange>();
  for (const c of changes) {
    const at = c.before?.column?.position;
    if (c.change === 'dropped' && c.kind === 'column' && at !== undefined) dropped.set(`${c.before!.table}#${at}`, c);
  }
  const out: SchemaChange[] = [];
  const renamed = new Set<SchemaChange>();
  for (const c of changes) {
    const at = c.after?.column?.position;
    const old = c.change === 'added' && c.kind === 'column' && at !== undefined ? dropped.get(`${c.after!.table}#${at}`) : undefined;
    if (old) {
      renamed.add(old);
      out.push({ change: 'changed', kind: 'column', id: c.id, before: old.before, after: c.after });
    } else out.push(c);
  }
  return out.filter((c) => !renamed.has(c));
}

/** The keys of the relations an object comes and goes with: its table, or the (materialized) view it sits on. */
export function ownerKeys(o: SchemaObject): string[] {
  return o.table === undefined ? [] : [objectKey('table', o.table), objectKey('view', o.table)];
}

/** Objects of a catalog by the key of the relation they belong to. */
function partsByOwner(catalog: Map<string, SchemaObject>): Map<string, SchemaObject[]> {
  const parts = new Map<string, SchemaObject[]>();
  for (const o of catalog.values()) {
    for (const key of ownerKeys(o)) {
      const list = parts.get(key);
      if (list) list.push(o);
      else parts.set(key, [o]);
    }
  }
  return parts;
}

/**
 * Folds the objects of added and dropped tables (and views) into their table's change: they are left out of the
 * list and put on the table's `after.parts` (added, and changed tables, whose recreation may need them) or
 * `before.parts` (dropped). A table dropped takes its columns, constraints, indexes, triggers and owned sequences with
 * it; a table added is created with them.
 */
export function foldTableParts(changes: SchemaChange[], before: Map<string, SchemaObject>, after: Map<string, SchemaObject>): SchemaChange[] {
  const owners = (change: SchemaChange['change']) =>
    new Set(changes.filter((c) => c.change === change && (c.kind === 'table' || c.kind === 'view')).map((c) => objectKey(c.kind, c.id)));
  const added = owners('added');
  const dropped = owners('dropped');
  const afterParts = partsByOwner(after);
  const beforeParts = partsByOwner(before);
  const out: SchemaChange[] = [];
  for (const c of changes) {
    if (c.change === 'added' && c.after && ownerKeys(c.after).some((k) => added.has(k))) continue;
    if (c.change === 'dropped' && c.before && ownerKeys(c.before).some((k) => dropped.has(k))) continue;
    const key = objectKey(c.kind, c.id);
    if (c.kind === 'table' || c.kind === 'view') {
      if (c.after) c.after = { ...c.after, parts: afterParts.get(key) ?? [] };
      if (c.change === 'dropped' && c.before) c.before = { ...c.before, parts: beforeParts.get(key) ?? [] };
    }
    out.push(c);
  }
  return out;
}

/**
 * What changed from `before` to `after` (two catalogs from readCatalog), sorted by kind then id. The columns,
 * constraints, indexes, triggers and owned sequences of an added or dropped table are not listed on their own: they
 * are the table's `after.parts` / `before.parts` (see foldTableParts), which schemaStatements creates with the table.
 */
export function compareSchemas(before: Map<string, SchemaObject>, after: Map<string, SchemaObject>): SchemaChange[] {
  return foldTableParts(objectChanges(before, after), before, after);
}
