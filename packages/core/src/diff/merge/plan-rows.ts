import type { RowConflict, RowOp, TableChanges, TableOps } from '../types.js';

/** How planRows settles a row both sides changed differently: keep ours (skip), or write theirs' state. */
export type RowStrategy = 'ours' | 'theirs';

/** Row operations to bring theirs' row changes into ours, and the rows both sides changed differently. */
export interface RowPlan {
  tables: TableOps[];
  conflicts: RowConflict[];
}

/**
 * Plans the row half of a three-way merge: what to do on the target (ours) so that it also carries the row changes
 * of the source (theirs), both measured from their common ancestor (base). Pure: reads nothing, writes nothing.
 *
 * Primary-key tables, per key (`-` = that side did not change the row; ins/upd/del = inserted, updated, deleted):
 *
 * | ours | theirs | result                                                                                   |
 * | ---- | ------ | ---------------------------------------------------------------------------------------- |
 * | any  | -      | nothing: only ours changed it, and the target is ours                                     |
 * | -    | ins    | insert theirs.after (ours has no row: base had none, ours left it so)                     |
 * | -    | upd    | update to theirs.after (ours still has the base row)                                      |
 * | -    | del    | delete (ours still has the base row)                                                      |
 * | ins  | ins    | same after: nothing; else conflict                                                        |
 * | upd  | upd    | same after: nothing; else conflict                                                        |
 * | del  | del    | nothing (both after = null)                                                               |
 * | upd  | del    | conflict (base row, ours' update, null)                                                   |
 * | del  | upd    | conflict (base row, null, theirs' update)                                                 |
 * | ins  | upd/del | cannot happen (both sides start from one base: a row or none); would be handled as any pair: |
 * | upd/del | ins  |   the same after → nothing, else a conflict                                               |
 *
 * A conflict carries base = theirs.before, ours = ours.after, theirs = theirs.after. With a strategy it is settled
 * instead: 'ours' skips the row; 'theirs' makes the target's row equal theirs.after, choosing the operation from
 * ours' state: ours has no row (after = null) → insert, ours has one and theirs has none → delete, both → update.
 * So `del | upd` under 'theirs' inserts the updated row back, and `upd | del` deletes ours' updated row.
 *
 * Tables without a primary key (`counts`: row text → copies added (> 0) or removed (< 0)) never conflict: a row is
 * its own key, so two sides cannot change "the same row" into different values. Per row text, with o and t the
 * counts of ours and theirs:
 * - t = 0: nothing;
 * - t and o of opposite sign (or o = 0): apply all of theirs (t inserts, or -t deletes of one copy each);
 * - same sign: both did (part of) the same thing; apply only theirs' excess, max(0, |t| - |o|) copies. Both
 *   deleted one copy of a row → nothing more; ours inserted 1 and theirs 3 copies → 2 inserts.
 *
 * A table keyed differently on the two sides (its primary key changed on one side) cannot be matched row by row:
 * every change of theirs to it is a conflict with ours = null, except under strategy 'ours' (skipped).
 *
 * Ops of a table come in key order (row text for whole-row tables), tables in name order, conflicts by table then key.
 */
export function planRows(ours: TableChanges[], theirs: TableChanges[], strategy?: RowStrategy): RowPlan {
  const oursByTable = new Map(ours.map((t) => [t.table, t]));
  const tables: TableOps[] = [];
  const conflicts: RowConflict[] = [];
  for (const their of [...theirs].sort((a, b) => compareText(a.table, b.table))) {
    const our = oursByTable.get(their.table);
    let ops: RowOp[];
    if (our && !sameKeying(our, their)) {
      ops = [];
      if (strategy !== 'ours') conflicts.push(...unmatchable(their));
    } else if (their.keyedBy === 'whole row') {
      ops = planWholeRows(our?.counts ?? new Map(), their.counts ?? new Map());
    } else {
      ops = planKeyedRows(our?.changes ?? new Map(), their, strategy, conflicts);
    }
    if (ops.length > 0) tables.push({ table: their.table, key: [...their.key], ops });
  }
  return { tables, conflicts };
}

type Changes = TableChanges['changes'];

function planKeyedRows(ours: Changes, their: TableChanges, strategy: RowStrategy | undefined, conflicts: RowConflict[]): RowOp[] {
  const ops: RowOp[] = [];
  for (const key of [...their.changes.keys()].sort(compareText)) {
    const t = their.changes.get(key)!;
    const o = ours.get(key);
    if (!o) {
      // Ours left the row as it was in base: theirs' change applies as it is.
      const op = opToReach(t.before, t.after);
      if (op) ops.push({ op, key, row: op === 'delete' ? null : t.after });
      continue;
    }
    if (o.after === t.after) continue;
    if (strategy === 'ours') continue;
    if (strategy === 'theirs') {
      const op = opToReach(o.after, t.after);
      if (op) ops.push({ op, key, row: op === 'delete' ? null : t.after });
      continue;
    }
    conflicts.push({ table: their.table, key, base: t.before, ours: o.after, theirs: t.after });
  }
  return ops;
}

/** The operation turning a row in state `current` (null: absent) into `wanted`; undefined when nothing is to do. */
function opToReach(current: string | null, wanted: string | null): RowOp['op'] | undefined {
  if (current === wanted) return undefined;
  if (current === null) return 'insert';
  return wanted === null ? 'delete' : 'update';
}

function planWholeRows(ours: Map<string, number>, theirs: Map<string, number>): RowOp[] {
  const ops: RowOp[] = [];
  for (const row of [...theirs.keys()].sort(compareText)) {
    const t = theirs.get(row)!;
    const o = ours.get(row) ?? 0;
    const shared = Math.sign(o) === Math.sign(t) ? Math.min(Math.abs(o), Math.abs(t)) : 0;
    const copies = Math.abs(t) - shared;
    const op: RowOp['op'] = t > 0 ? 'insert' : 'delete';
    for (let i = 0; i < copies; i++) ops.push({ op, key: null, row });
  }
  return ops;
}

function sameKeying(a: TableChanges, b: TableChanges): boolean {
  return a.keyedBy === b.keyedBy && a.key.length === b.key.length && a.key.every((c, i) => c === b.key[i]);
}

/** Theirs' changes to a table ours keys differently, each as a conflict (ours' state of the row is unknown). */
function unmatchable(their: TableChanges): RowConflict[] {
  if (their.keyedBy === 'whole row') {
    return [...(their.counts ?? new Map<string, number>())]
      .filter(([, n]) => n !== 0)
      .sort(([a], [b]) => compareText(a, b))
      .map(([row, n]) => ({ table: their.table, key: row, base: n < 0 ? row : null, ours: null, theirs: n > 0 ? row : null }));
  }
  return [...their.changes]
    .sort(([a], [b]) => compareText(a, b))
    .map(([key, c]) => ({ table: their.table, key, base: c.before, ours: null, theirs: c.after }));
}

/** Code-unit order: the same on every machine and locale. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
