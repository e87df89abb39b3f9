import type { SchemaChange, SchemaConflict, SchemaObject } from '../types.js';
import { objectKey } from './catalog.js';
import { byKindAndId, compareSchemas, objectChanges, ownerKeys } from './compare.js';

export interface SchemaMerge {
  /** What to apply to `ours` (schemaStatements turns it into DDL); folded like compareSchemas. */
  changes: SchemaChange[];
  /** Objects changed differently on both sides, by kind then id. */
  conflicts: SchemaConflict[];
}

export interface MergeSchemasOptions {
  /** How conflicts are settled in `changes`: keep ours (the default: conflicts add nothing) or take theirs. */
  strategy?: 'ours' | 'theirs';
}

/**
 * Three-way merge of catalogs (from readCatalog): `base` is the common ancestor, `ours` the target, `theirs` the
 * source. An object changed on theirs alone is changed on ours; changed the same way on both, it is left alone;
 * changed differently on both, it is a conflict. A table dropped on one side while the other changed one of its
 * columns, constraints, indexes, triggers or owned sequences is a conflict on the table.
 */
export function mergeSchemas(
  base: Map<string, SchemaObject>,
  ours: Map<string, SchemaObject>,
  theirs: Map<string, SchemaObject>,
  options: MergeSchemasOptions = {},
): SchemaMerge {
  const ourChanges = objectChanges(base, ours);
  const theirChanges = objectChanges(base, theirs);
  const oursByKey = new Map(ourChanges.map((c) => [objectKey(c.kind, c.id), c]));
  const theirsByKey = new Map(theirChanges.map((c) => [objectKey(c.kind, c.id), c]));
  const droppedTables = (changes: SchemaChange[]) =>
    new Set(changes.filter((c) => c.change === 'dropped' && (c.kind === 'table' || c.kind === 'view')).map((c) => objectKey(c.kind, c.id)));
  const oursDropped = droppedTables(ourChanges);
  const theirsDropped = droppedTables(theirChanges);

  const conflicts = new Map<string, SchemaConflict>();
  const conflict = (key: string, o: SchemaObject) => conflicts.set(key, { kind: o.kind, id: o.id, ...sides(key, base, ours, theirs) });
  // A part changed on one side of a table the other side dropped.
  const tableConflicts = (changes: SchemaChange[], dropped: Set<string>, catalog: Map<string, SchemaObject>) => {
    for (const c of changes) {
      if (c.change === 'dropped') continue;
      for (const owner of ownerKeys(c.after!)) if (dropped.has(owner)) conflict(owner, catalog.get(owner) ?? base.get(owner)!);
    }
  };
  tableConflicts(ourChanges, theirsDropped, base);
  tableConflicts(theirChanges, oursDropped, base);
  for (const [key, t] of theirsByKey) {
    const o = oursByKey.get(key);
    if (o && !sameOutcome(o, t)) conflict(key, (t.after ?? t.before)!);
  }

  const merged = new Map(ours);
  const take = (key: string) => {
    const object = theirs.get(key);
    if (object) merged.set(key, object);
    else merged.delete(key);
  };
  const inConflictedTable = (o: SchemaObject) => ownerKeys(o).some((k) => conflicts.has(k));
  for (const [key, t] of theirsByKey) {
    if (!conflicts.has(key) && !inConflictedTable((t.after ?? t.before)!) && !oursByKey.has(key)) {
      take(key);
      // A renamed column (see objectChanges): its old name goes; compareSchemas pairs the two again as a rename.
      if (t.change === 'changed' && t.before!.id !== t.id) merged.delete(objectKey(t.kind, t.before!.id));
    }
  }
  if (options.strategy === 'theirs') {
    for (const key of conflicts.keys()) {
      take(key);
      // The conflicted table with every part as theirs has it (or none, when theirs dropped it).
      for (const catalog of [ours, theirs]) {
        for (const [k, o] of catalog) if (ownerKeys(o).includes(key)) take(k);
      }
    }
  }
  return { changes: compareSchemas(ours, merged), conflicts: [...conflicts.values()].sort(byKindAndId) };
}

/** Both sides ended with the same object (or both dropped it). */
function sameOutcome(a: SchemaChange, b: SchemaChange): boolean {
  if (a.change === 'dropped' || b.change === 'dropped') return a.change === b.change;
  return a.after!.definition === b.after!.definition;
}

function sides(key: string, base: Map<string, SchemaObject>, ours: Map<string, SchemaObject>, theirs: Map<string, SchemaObject>) {
  const present = (name: 'base' | 'ours' | 'theirs', o: SchemaObject | undefined) => (o ? { [name]: o } : {});
  return { ...present('base', base.get(key)), ...present('ours', ours.get(key)), ...present('theirs', theirs.get(key)) };
}
