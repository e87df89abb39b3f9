import { describe, expect, it } from 'vitest';
import type { TableChanges } from '../types.js';
import { planRows } from './plan-rows.js';

type Change = { before: string | null; after: string | null };

function keyed(table: string, changes: Record<string, Change>): TableChanges {
  return { table, keyedBy: 'primary key', key: ['id'], changes: new Map(Object.entries(changes)) };
}
function wholeRows(table: string, counts: Record<string, number>): TableChanges {
  return { table, keyedBy: 'whole row', key: [], changes: new Map(), counts: new Map(Object.entries(counts)) };
}

const K = '{"id": 1}';
const BASE = '{"id": 1, "v": "base"}';
const OURS = '{"id": 1, "v": "ours"}';
const THEIRS = '{"id": 1, "v": "theirs"}';
const ins = (after: string): Change => ({ before: null, after });
const upd = (after: string): Change => ({ before: BASE, after });
const del: Change = { before: BASE, after: null };

/** The plan for one key of table t, ours' change (undefined: unchanged) against theirs'. */
function one(ours: Change | undefined, theirs: Change, strategy?: 'ours' | 'theirs') {
  const plan = planRows(ours ? [keyed('public.t', { [K]: ours })] : [], [keyed('public.t', { [K]: theirs })], strategy);
  return { ops: plan.tables.flatMap((t) => t.ops), conflicts: plan.conflicts };
}

describe('planRows, primary-key tables', () => {
  it('applies theirs where ours left the row alone', () => {
    expect(one(undefined, ins(THEIRS)).ops).toEqual([{ op: 'insert', key: K, row: THEIRS }]);
    expect(one(undefined, upd(THEIRS)).ops).toEqual([{ op: 'update', key: K, row: THEIRS }]);
    expect(one(undefined, del).ops).toEqual([{ op: 'delete', key: K, row: null }]);
    expect(one(undefined, { before: null, after: null })).toEqual({ ops: [], conflicts: [] });
  });

  it('does nothing where both sides reached the same row', () => {
    expect(one(ins(THEIRS), ins(THEIRS))).toEqual({ ops: [], conflicts: [] });
    expect(one(upd(THEIRS), upd(THEIRS))).toEqual({ ops: [], conflicts: [] });
    expect(one(del, del)).toEqual({ ops: [], conflicts: [] });
  });

  it('reports a conflict with base, ours and theirs where the sides differ', () => {
    const cases: Array<[Change, Change, string | null, string | null, string | null]> = [
      [ins(OURS), ins(THEIRS), null, OURS, THEIRS],
      [upd(OURS), upd(THEIRS), BASE, OURS, THEIRS],
      [upd(OURS), del, BASE, OURS, null],
      [del, upd(THEIRS), BASE, null, THEIRS],
    ];
    for (const [ours, theirs, base, o, t] of cases) {
      expect(one(ours, theirs)).toEqual({ ops: [], conflicts: [{ table: 'public.t', key: K, base, ours: o, theirs: t }] });
    }
  });

  it("strategy 'ours' skips every conflicting row and still applies the rest", () => {
    for (const [ours, theirs] of [[ins(OURS), ins(THEIRS)], [upd(OURS), upd(THEIRS)], [upd(OURS), del], [del, upd(THEIRS)]] as const) {
      expect(one(ours, theirs, 'ours')).toEqual({ ops: [], conflicts: [] });
    }
    expect(one(undefined, upd(THEIRS), 'ours').ops).toEqual([{ op: 'update', key: K, row: THEIRS }]);
  });

  it("strategy 'theirs' writes theirs' state, the operation chosen by ours' state", () => {
    expect(one(ins(OURS), ins(THEIRS), 'theirs')).toEqual({ ops: [{ op: 'update', key: K, row: THEIRS }], conflicts: [] });
    expect(one(upd(OURS), upd(THEIRS), 'theirs').ops).toEqual([{ op: 'update', key: K, row: THEIRS }]);
    expect(one(upd(OURS), del, 'theirs').ops).toEqual([{ op: 'delete', key: K, row: null }]);
    expect(one(del, upd(THEIRS), 'theirs').ops).toEqual([{ op: 'insert', key: K, row: THEIRS }]);
    expect(one(del, del, 'theirs').ops).toEqual([]);
  });

  it('orders tables by name and ops by key text (code units, not numbers), and leaves out tables with nothing to do', () => {
    const theirs = [
      keyed('public.z', { '{"id": 2}': ins('{"id": 2}'), '{"id": 10}': ins('{"id": 10}'), '{"id": 1}': del }),
      keyed('public.a', { [K]: upd(THEIRS) }),
      keyed('public.same', { [K]: upd(THEIRS) }),
    ];
    const plan = planRows([keyed('public.same', { [K]: upd(THEIRS) })], theirs);
    expect(plan.tables.map((t) => t.table)).toEqual(['public.a', 'public.z']);
    expect(plan.tables[1]!.ops.map((o) => o.key)).toEqual(['{"id": 10}', '{"id": 1}', '{"id": 2}']);
    expect(plan.tables[1]!.key).toEqual(['id']);
  });

  it('lists conflicts of every table, and ignores tables only ours changed', () => {
    const plan = planRows(
      [keyed('public.b', { [K]: upd(OURS) }), keyed('public.a', { [K]: upd(OURS) }), keyed('public.only_ours', { [K]: del })],
      [keyed('public.b', { [K]: upd(THEIRS) }), keyed('public.a', { [K]: upd(THEIRS), '{"id": 2}': ins('{"id": 2}') })],
    );
    expect(plan.conflicts.map((c) => c.table)).toEqual(['public.a', 'public.b']);
    expect(plan.tables).toEqual([{ table: 'public.a', key: ['id'], ops: [{ op: 'insert', key: '{"id": 2}', row: '{"id": 2}' }] }]);
  });

  it('reports every change of a table whose key differs between the sides as a conflict', () => {
    const ours = { ...keyed('public.t', { [K]: upd(OURS) }), key: ['id', 'v'] };
    const theirs = keyed('public.t', { '{"id": 2}': ins('{"id": 2}'), [K]: del });
    expect(planRows([ours], [theirs])).toEqual({
      tables: [],
      conflicts: [
        { table: 'public.t', key: K, base: BASE, ours: null, theirs: null },
        { table: 'public.t', key: '{"id": 2}', base: null, ours: null, theirs: '{"id": 2}' },
      ],
    });
    expect(planRows([ours], [theirs], 'ours')).toEqual({ tables: [], conflicts: [] });
    expect(planRows([wholeRows('public.t', { x: 1 })], [theirs]).conflicts).toHaveLength(2);
  });
});

describe('planRows, tables without a primary key', () => {
  const ops = (ours: Record<string, number> | undefined, theirs: Record<string, number>, strategy?: 'ours' | 'theirs') => {
    const plan = planRows(ours ? [wholeRows('public.log', ours)] : [], [wholeRows('public.log', theirs)], strategy);
    expect(plan.conflicts).toEqual([]);
    return plan.tables.flatMap((t) => t.ops.map((o) => `${o.op} ${o.row}`));
  };

  it('applies theirs as it is where ours did not touch the row', () => {
    expect(ops(undefined, { a: 2, b: -1 })).toEqual(['insert a', 'insert a', 'delete b']);
    expect(ops({ other: 3 }, { a: 1 })).toEqual(['insert a']);
  });

  it('applies only the excess where both did the same', () => {
    expect(ops({ b: -1 }, { b: -1 })).toEqual([]);
    expect(ops({ b: -1 }, { b: -3 })).toEqual(['delete b', 'delete b']);
    expect(ops({ b: -3 }, { b: -1 })).toEqual([]);
    expect(ops({ a: 1 }, { a: 3 })).toEqual(['insert a', 'insert a']);
    expect(ops({ a: 2 }, { a: 2 })).toEqual([]);
  });

  it('applies all of theirs where ours went the other way, whatever the strategy', () => {
    for (const strategy of [undefined, 'ours', 'theirs'] as const) {
      expect(ops({ a: -1, b: 2 }, { a: 2, b: -1 }, strategy)).toEqual(['insert a', 'insert a', 'delete b']);
    }
  });

  it('orders ops by row text, each op one copy, key null', () => {
    const plan = planRows([], [wholeRows('public.log', { '{"n": 2}': 1, '{"n": 10}': -1, '{"n": 1}': 1 })]);
    expect(plan.tables[0]).toEqual({
      table: 'public.log',
      key: [],
      ops: [
        { op: 'delete', key: null, row: '{"n": 10}' },
        { op: 'insert', key: null, row: '{"n": 1}' },
        { op: 'insert', key: null, row: '{"n": 2}' },
      ],
    });
  });
});
