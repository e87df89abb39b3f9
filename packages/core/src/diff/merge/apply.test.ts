import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../engine/engine.js';
import { MergeApplyError, MergeConstraintError } from '../../errors.js';
import type { MergePlan, RowOp, TableOps } from '../types.js';
import { applyMergePlan, type MergeProgress } from './apply-plan.js';
import { sequenceValues } from './sequences.js';

const SCHEMA = `
DROP SCHEMA IF EXISTS m CASCADE;
CREATE SCHEMA m;
CREATE TABLE m.items (id int PRIMARY KEY, name text NOT NULL, qty int CHECK (qty >= 0));
CREATE TABLE m.pairs (a int, b text, note text, PRIMARY KEY (a, b));
CREATE TABLE m.tokens (id uuid PRIMARY KEY, label text);
CREATE TABLE m.log (msg text, n int, at point);
CREATE TABLE m.ids (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text, doubled int GENERATED ALWAYS AS (length(name) * 2) STORED);
CREATE TABLE m.vals (id bigint PRIMARY KEY, doc jsonb, tags text[], big numeric(40,10), raw bytea, at timestamptz, plain json);
CREATE TABLE m.parents (id int PRIMARY KEY, code text UNIQUE);
CREATE TABLE m.children (id int PRIMARY KEY, parent_id int REFERENCES m.parents (id), parent_code text REFERENCES m.parents (code));
CREATE TABLE m.audit (what text);
CREATE FUNCTION m.audit_items() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO m.audit VALUES (TG_OP); RETURN NULL; END $$;
CREATE TRIGGER items_audit AFTER INSERT OR UPDATE OR DELETE ON m.items FOR EACH ROW EXECUTE FUNCTION m.audit_items();
CREATE SEQUENCE m.counter;
SELECT nextval('m.counter') FROM generate_series(1, 5);
INSERT INTO m.items VALUES (1, 'one', 1), (2, 'two', 2), (3, 'three', 3);
INSERT INTO m.pairs VALUES (1, 'x', 'first'), (1, 'y', 'second');
INSERT INTO m.tokens VALUES ('00000000-0000-0000-0000-000000000001', 'a');
INSERT INTO m.log VALUES ('a', 1, '(1,2)'), ('a', 1, '(1,2)'), ('a', 1, '(1,2)'), ('b', 2, NULL);
INSERT INTO m.ids (name) VALUES ('abc');
INSERT INTO m.parents VALUES (1, 'p1'), (2, 'p2');
INSERT INTO m.children VALUES (1, 1, NULL), (2, NULL, 'p2');
TRUNCATE m.audit;
`;
const TABLES = ['items', 'pairs', 'tokens', 'log', 'ids', 'vals', 'parents', 'children', 'audit'];

describe('applyMergePlan on a real Postgres', () => {
  let engine: Engine;
  let cacheDir: string;
  let client: pg.Client;

  beforeAll(async () => {
    cacheDir = await mkdtemp(path.join(os.tmpdir(), 'pgbranch-merge-apply-'));
    engine = await createEngine({ cacheDir });
    const branch = await (await engine.snapshot({ name: 'merge-apply' })).branch();
    client = new pg.Client(branch.adminConnection());
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await engine?.close();
    await rm(cacheDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await client.query(SCHEMA);
  });

  /** Every row of the test tables (as to_jsonb text, sorted) and the sequences: what "unchanged" compares. */
  async function contents(): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for (const t of TABLES) out[t] = (await client.query<{ r: string }>(`SELECT to_jsonb(t)::text AS r FROM m.${t} t ORDER BY 1`)).rows.map((r) => r.r);
    out.sequences = (await sequenceValues(client)).map((s) => `${s.name}=${s.value}`);
    return out;
  }
  /** Rows as a source branch's diff would carry them: to_jsonb of rows written by `sql`, then rolled back. */
  async function sourceRows(sql: string, select: string): Promise<string[]> {
    await client.query('BEGIN');
    try {
      await client.query(sql);
      return (await client.query<{ r: string }>(`SELECT to_jsonb(t)::text AS r FROM (${select}) t`)).rows.map((r) => r.r);
    } finally {
      await client.query('ROLLBACK');
    }
  }
  const plan = (tables: TableOps[], extra: Partial<MergePlan> = {}): MergePlan => ({ schema: [], tables, sequences: [], ...extra });
  const ops = (table: string, key: string[], list: RowOp[]): TableOps => ({ table: `m.${table}`, key, ops: list });
  const col = async (sql: string) => (await client.query<{ v: unknown }>(sql)).rows.map((r) => r.v);

  async function expectFailure(p: MergePlan, kind: typeof MergeConstraintError | typeof MergeApplyError): Promise<Error> {
    const before = await contents();
    const err = await applyMergePlan(client, p).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(kind);
    expect(await contents()).toEqual(before);
    // The transaction is over: the session is back to its own settings and takes new work.
    expect(await col('SELECT current_setting(\'session_replication_role\') AS v')).toEqual(['origin']);
    return err!;
  }

  it('inserts, updates and deletes by int, composite and uuid keys, in batches, without firing user triggers', async () => {
    const many: RowOp[] = Array.from({ length: 2500 }, (_, i) => ({ op: 'insert', key: `{"id": ${100 + i}}`, row: `{"id": ${100 + i}, "qty": ${i}, "name": "n${i}"}` }));
    const events: MergeProgress[] = [];
    const counts = await applyMergePlan(
      client,
      plan([
        ops('items', ['id'], [
          { op: 'delete', key: '{"id": 1}', row: null },
          { op: 'update', key: '{"id": 2}', row: '{"id": 2, "qty": 20, "name": "TWO"}' },
          ...many,
        ]),
        ops('pairs', ['a', 'b'], [
          { op: 'update', key: '{"a": 1, "b": "x"}', row: '{"a": 1, "b": "x", "note": "changed"}' },
          { op: 'delete', key: '{"a": 1, "b": "y"}', row: null },
          { op: 'insert', key: '{"a": 2, "b": "x"}', row: '{"a": 2, "b": "x", "note": null}' },
        ]),
        ops('tokens', ['id'], [
          { op: 'delete', key: '{"id": "00000000-0000-0000-0000-000000000001"}', row: null },
          { op: 'insert', key: '{"id": "00000000-0000-0000-0000-000000000002"}', row: '{"id": "00000000-0000-0000-0000-000000000002", "label": "b"}' },
        ]),
      ]),
      { onProgress: (e) => events.push(e) },
    );
    expect(counts).toEqual({ inserted: 2502, updated: 2, deleted: 3 });
    expect(await col('SELECT count(*)::int AS v FROM m.items')).toEqual([2502]);
    expect(await col("SELECT to_jsonb(i)::text AS v FROM m.items i WHERE id IN (2, 3, 2599) ORDER BY id")).toEqual([
      '{"id": 2, "qty": 20, "name": "TWO"}',
      '{"id": 3, "qty": 3, "name": "three"}',
      '{"id": 2599, "qty": 2499, "name": "n2499"}',
    ]);
    expect(await col('SELECT note AS v FROM m.pairs ORDER BY a, b')).toEqual(['changed', null]);
    expect(await col('SELECT label AS v FROM m.tokens')).toEqual(['b']);
    // 2500 inserts in three statements of at most 1000 rows, reported as they went.
    expect(events.filter((e) => e.step === 'rows' && e.table === 'm.items').map((e) => e.done)).toEqual([1, 2, 1002, 2002, 2502]);
    expect(await col('SELECT count(*)::int AS v FROM m.audit')).toEqual([0]);
    await client.query("INSERT INTO m.items VALUES (9, 'direct', 0)");
    expect(await col('SELECT what AS v FROM m.audit')).toEqual(['INSERT']);
  });

  it('removes one copy per delete from a table without a primary key, matching columns without equality (point)', async () => {
    const a = '{"n": 1, "at": "(1,2)", "msg": "a"}';
    const c = '{"n": 3, "at": null, "msg": "c"}';
    const counts = await applyMergePlan(client, plan([ops('log', [], [
      { op: 'delete', key: null, row: a },
      { op: 'delete', key: null, row: a },
      { op: 'insert', key: null, row: c },
      { op: 'insert', key: null, row: c },
    ])]));
    expect(counts).toEqual({ inserted: 2, updated: 0, deleted: 2 });
    expect(await col('SELECT msg AS v FROM m.log ORDER BY msg')).toEqual(['a', 'b', 'c', 'c']);
    const err = await expectFailure(plan([ops('log', [], [{ op: 'delete', key: null, row: a }, { op: 'delete', key: null, row: a }])]), MergeConstraintError);
    expect(err.message).toMatch(/cannot delete 1 of 2 row\(s\) of m\.log/);
  });

  it('writes identity ALWAYS columns as given, lets Postgres compute generated ones, and moves sequences forward only', async () => {
    await applyMergePlan(
      client,
      plan([ops('ids', ['id'], [
        { op: 'update', key: '{"id": 1}', row: '{"id": 1, "name": "abcd", "doubled": 0}' },
        { op: 'insert', key: '{"id": 100}', row: '{"id": 100, "name": "xyz", "doubled": 999}' },
      ])], { sequences: [{ name: 'm.ids_id_seq', value: '100' }, { name: 'm.counter', value: '3' }, { name: 'm.gone', value: '7' }] }),
    );
    expect(await col('SELECT to_jsonb(i)::text AS v FROM m.ids i ORDER BY id')).toEqual([
      '{"id": 1, "name": "abcd", "doubled": 8}',
      '{"id": 100, "name": "xyz", "doubled": 6}',
    ]);
    expect(await col("SELECT nextval('m.ids_id_seq')::int AS v")).toEqual([101]);
    expect(await col("SELECT nextval('m.counter')::int AS v")).toEqual([6]);
    await applyMergePlan(client, plan([], { sequences: [{ name: 'm.counter', value: '50' }] }));
    expect(await col("SELECT nextval('m.counter')::int AS v")).toEqual([51]);
  });

  it('round-trips jsonb, arrays, big numerics, bytea, timestamptz and json exactly, on insert and update', async () => {
    const values = `(1, '{"a": [1, 2.50, {"é": "x\\"y"}], "n": null}', ARRAY['q"uote', NULL, 'comma,', ''], 12345678901234567890123456789.0123456789,
      '\\x00ff10'::bytea, '2024-02-29 23:59:59.123456+05:30', '{"z": 1,   "a": [true]}')`;
    const inserted = await sourceRows(`INSERT INTO m.vals VALUES ${values}`, 'SELECT * FROM m.vals');
    const updated = await sourceRows(
      `INSERT INTO m.vals VALUES ${values}; UPDATE m.vals SET big = -0.0000000001, raw = '\\x'::bytea, tags = '{}', doc = '[]'`,
      'SELECT * FROM m.vals',
    );
    await applyMergePlan(client, plan([ops('vals', ['id'], [{ op: 'insert', key: '{"id": 1}', row: inserted[0]! }])]));
    expect(await col('SELECT to_jsonb(v)::text AS v FROM m.vals v')).toEqual(inserted);
    expect(await col("SELECT big::text || ' ' || encode(raw, 'hex') || ' ' || (at = '2024-02-29 18:29:59.123456Z') || ' ' || array_length(tags, 1) AS v FROM m.vals")).toEqual([
      '12345678901234567890123456789.0123456789 00ff10 true 4',
    ]);
    await applyMergePlan(client, plan([ops('vals', ['id'], [{ op: 'update', key: '{"id": 1}', row: updated[0]! }])]));
    expect(await col('SELECT to_jsonb(v)::text AS v FROM m.vals v')).toEqual(updated);
  });

  it('runs the schema statements first, in order, in the same transaction', async () => {
    await applyMergePlan(
      client,
      plan([ops('items', ['id'], [{ op: 'insert', key: '{"id": 7}', row: '{"id": 7, "qty": 0, "name": "seven", "color": "red"}' }])], {
        schema: ['ALTER TABLE m.items ADD COLUMN color text', "ALTER TABLE m.items ALTER COLUMN color SET DEFAULT 'none'"],
      }),
    );
    expect(await col('SELECT color AS v FROM m.items ORDER BY id')).toEqual([null, null, null, 'red']);
    const err = await expectFailure(
      plan([ops('items', ['id'], [{ op: 'delete', key: '{"id": 1}', row: null }])], { schema: ['ALTER TABLE m.items ADD COLUMN size int', 'ALTER TABLE m.nowhere ADD COLUMN x int'] }),
      MergeApplyError,
    );
    expect(err.message).toMatch(/schema statement 2 of 2 \(ALTER TABLE m\.nowhere ADD COLUMN x int\) failed: relation "m\.nowhere" does not exist/);
  });

  it('writes a parent and its children in one plan whatever the order of their tables', async () => {
    await applyMergePlan(client, plan([
      ops('children', ['id'], [{ op: 'insert', key: '{"id": 3}', row: '{"id": 3, "parent_id": 3, "parent_code": "p3"}' }]),
      ops('parents', ['id'], [{ op: 'insert', key: '{"id": 3}', row: '{"id": 3, "code": "p3"}' }]),
    ]));
    expect(await col('SELECT count(*)::int AS v FROM m.children WHERE parent_id = 3')).toEqual([1]);
  });

  it('fails with MergeConstraintError, changing nothing, when a parent row a child references goes', async () => {
    const insertElsewhere = ops('items', ['id'], [{ op: 'insert', key: '{"id": 8}', row: '{"id": 8, "qty": 0, "name": "eight"}' }]);
    const byId = await expectFailure(plan([insertElsewhere, ops('parents', ['id'], [{ op: 'delete', key: '{"id": 1}', row: null }])]), MergeConstraintError);
    expect(byId.message).toMatch(/rows of m\.children without their parent row in m\.parents \(foreign key children_parent_id_fkey\); missing m\.parents key\(s\): \{"id": 1\}\. Nothing was applied/);
    expect(byId).toMatchObject({ code: 'PGBRANCH_MERGE_CONSTRAINT', table: 'm.children', constraint: 'children_parent_id_fkey', keys: ['{"id": 1}'] });
    // A referenced column that is not the key: the parent's old value is found before its row changes.
    const byCode = await expectFailure(plan([ops('parents', ['id'], [{ op: 'update', key: '{"id": 2}', row: '{"id": 2, "code": "p2-new"}' }])]), MergeConstraintError);
    expect(byCode).toMatchObject({ constraint: 'children_parent_code_fkey', keys: ['{"code": "p2"}'] });
    const orphan = await expectFailure(
      plan([ops('children', ['id'], [
        { op: 'insert', key: '{"id": 5}', row: '{"id": 5, "parent_id": 9, "parent_code": null}' },
        { op: 'update', key: '{"id": 1}', row: '{"id": 1, "parent_id": 8, "parent_code": null}' },
      ])]),
      MergeConstraintError,
    );
    expect(orphan).toMatchObject({ constraint: 'children_parent_id_fkey', keys: ['{"id": 8}', '{"id": 9}'] });
    // A parent whose children went too passes.
    await applyMergePlan(client, plan([
      ops('children', ['id'], [{ op: 'delete', key: '{"id": 1}', row: null }]),
      ops('parents', ['id'], [{ op: 'delete', key: '{"id": 1}', row: null }]),
    ]));
    expect(await col('SELECT id AS v FROM m.parents')).toEqual([2]);
  });

  it('fails, changing nothing, when a row to update or delete is missing or an insert breaks a constraint, naming keys only', async () => {
    const before = ops('items', ['id'], [{ op: 'insert', key: '{"id": 8}', row: '{"id": 8, "qty": 0, "name": "eight"}' }]);
    const update = await expectFailure(plan([before, ops('pairs', ['a', 'b'], [{ op: 'update', key: '{"a": 5, "b": "z"}', row: '{"a": 5, "b": "z", "note": "n"}' }])]), MergeConstraintError);
    expect(update.message).toMatch(/cannot update 1 row\(s\) of m\.pairs: the target has no row with the key \{"a": 5, "b": "z"\}/);
    const del = await expectFailure(plan([before, ops('tokens', ['id'], [{ op: 'delete', key: '{"id": "00000000-0000-0000-0000-00000000000f"}', row: null }])]), MergeConstraintError);
    expect(del).toMatchObject({ table: 'm.tokens', keys: ['{"id": "00000000-0000-0000-0000-00000000000f"}'] });
    const dup = await expectFailure(plan([ops('items', ['id'], [{ op: 'insert', key: '{"id": 1}', row: '{"id": 1, "qty": 0, "name": "again"}' }])]), MergeConstraintError);
    expect(dup.message).toMatch(/insert of m\.items failed: duplicate key value violates unique constraint "items_pkey" \(Key \(id\)=\(1\) already exists\.\)/);
    const check = await expectFailure(plan([ops('items', ['id'], [{ op: 'insert', key: '{"id": 9}', row: '{"id": 9, "qty": -1, "name": "hunter2-secret"}' }])]), MergeConstraintError);
    expect(check).toMatchObject({ table: 'm.items', constraint: 'items_qty_check' });
    expect(`${check.message} ${JSON.stringify(check.cause)} ${String(check.cause)}`).not.toMatch(/hunter2/);
    const table = await expectFailure(plan([ops('nowhere', ['id'], [{ op: 'delete', key: '{"id": 1}', row: null }])]), MergeApplyError);
    expect(table.message).toMatch(/writes rows to m\.nowhere, which the target does not have/);
  });
});
