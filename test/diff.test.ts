import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Branch, type DatabaseDiff, type Engine, type Snapshot } from '@pgbranch/core';
import { dockerUnavailable, TEST_IMAGE } from './support/docker.js';
import { naiveDiff } from './support/naive-diff.js';
import { query } from './support/pg.js';
import { repoRoot } from './support/processes.js';
import { requireAll } from './support/targets.js';

const recipe = (name: string) => path.join(repoRoot, 'fixtures/recipes', name);

/** Row counts per table as a diff reports them, in the oracle's shape. */
function counts(diff: DatabaseDiff): Record<string, { inserted: number; updated: number; deleted: number }> {
  return Object.fromEntries(diff.tables.map((t) => [t.table, { inserted: t.inserted, updated: t.updated, deleted: t.deleted }]));
}

/** Diffs `branch` and checks the counts against a full compare with a fresh branch of the same snapshot. */
async function diffMatchesFullCompare(snap: Snapshot, branch: Branch): Promise<DatabaseDiff> {
  const diff = await branch.diff({ rows: 5 });
  await using base = await snap.branch();
  expect(counts(diff)).toEqual(await naiveDiff(base.url, branch.url));
  return diff;
}

describe('branch.diff() on the fixture recipes (local driver)', () => {
  const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'diff');
  let engine: Engine;
  let sync: Snapshot;
  let relay: Snapshot;
  beforeAll(async () => {
    await rm(cacheDir, { recursive: true, force: true });
    engine = await createEngine({ cacheDir });
    sync = await engine.snapshot({ name: 'sync-store', sql: [recipe('sync-store')] });
    relay = await engine.snapshot({ name: 'relay-store', sql: [recipe('relay-store')] });
  });
  afterAll(async () => {
    await engine?.close();
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('finds nothing in a fresh branch, reading page LSNs only', async () => {
    await using branch = await sync.branch();
    const diff = await branch.diff();
    expect(diff.schema).toEqual([]);
    expect(diff.tables).toEqual([]);
    expect(diff.stats.pagesRead).toBeGreaterThan(0);
    expect(diff.stats.pagesChanged).toBe(0);
    expect(diff.base).toContain('sync-store');
  });

  it('counts inserts, updates and deletes across foreign keys, cascades and triggers exactly as a full compare does', async () => {
    await using branch = await sync.branch();
    const docs = await query<{ id: string }>(branch.url, 'select id from documents order by id limit 3');
    await query(branch.url, `update documents set name = name || ' (edited)' where id = $1`, [docs[0]!.id]); // documents_touch bumps version
    await query(branch.url, 'delete from documents where id = $1', [docs[1]!.id]); // cascades to operations, conflicts, locks
    await query(branch.url, `insert into documents (id, workspace_id, name, doc_type, created_by, updated_by) values (gen_random_uuid(), 1, 'new doc', 'text', 'tester', 'tester')`);
    await query(branch.url, `update operations set status = 'applied', version = base_version + 1, applied_at = now() where id in (select id from operations where status = 'pending' order by id limit 4)`);
    const diff = await diffMatchesFullCompare(sync, branch);
    const documents = diff.tables.find((t) => t.table === 'public.documents')!;
    expect(documents).toMatchObject({ inserted: 1, updated: 1, deleted: 1, keyedBy: 'primary key', key: ['id'], compared: 'changed pages' });
    const updated = documents.rows.find((r) => r.change === 'updated')!;
    expect(updated.key).toEqual({ id: docs[0]!.id });
    expect(updated.columns).toEqual(expect.arrayContaining(['name']));
    expect(diff.stats.pagesChanged).toBeLessThan(diff.stats.pagesRead / 4);
  });

  it('lists schema changes: a table with a foreign key, a column, an index, a function, a view, a dropped index', async () => {
    await using branch = await sync.branch();
    await query(branch.url, `
      create table doc_notes (id bigint generated always as identity primary key, doc_id uuid not null references documents (id), note text not null);
      alter table locks add column reason text;
      create index documents_name_idx on documents (name);
      create view open_conflicts as select id, doc_id from conflicts where status = 'open';
      create function note_count(d uuid) returns bigint language sql stable as $$ select count(*) from doc_notes where doc_id = d $$;
      drop index documents_created_by_idx;
      insert into doc_notes (doc_id, note) select id, 'n' from documents order by id limit 2;`);
    const diff = await branch.diff();
    const changes = diff.schema.map((c) => `${c.change} ${c.kind} ${c.id}`);
    expect(changes).toEqual(
      expect.arrayContaining([
        'added table public.doc_notes',
        'added column public.locks.reason',
        'added index public.documents_name_idx',
        'added view public.open_conflicts',
        'dropped index public.documents_created_by_idx',
      ]),
    );
    expect(changes.some((c) => c.startsWith('added function public.note_count'))).toBe(true);
    expect(diff.tables.find((t) => t.table === 'public.doc_notes')).toMatchObject({ inserted: 2, compared: 'whole table', reason: 'new table' });
  });

  it('hides secret-looking columns, or the columns asked for', async () => {
    await using branch = await relay.branch();
    await query(branch.url, `update relay.api_keys set key_hash = decode(md5('a') || md5('b'), 'hex'), name = name || '!' where id = (select id from relay.api_keys order by id limit 1)`);
    const diff = await diffMatchesFullCompare(relay, branch);
    const row = diff.tables.find((t) => t.table === 'relay.api_keys')!.rows[0]!;
    expect(row.after!.key_hash).toBe('[redacted]');
    expect(row.after!.name).toMatch(/!$/);
    const custom = await branch.diff({ redact: ['api_keys.name'] });
    const shown = custom.tables.find((t) => t.table === 'relay.api_keys')!.rows[0]!;
    expect(shown.after!.name).toBe('[redacted]');
    expect(shown.after!.key_hash).toBe(`\\x${'0cc175b9c0f1b6a831c399e269772661'}${'92eb5ffee6ae2fec3ad71c777531578f'}`);
  });

  it('compares a rewritten table (TRUNCATE) whole, and says so', async () => {
    await using branch = await relay.branch();
    await query(branch.url, `begin; create temp table keep as select * from relay.model_prices; truncate relay.model_prices cascade;
      insert into relay.model_prices select * from keep where model <> (select min(model) from keep); update relay.model_prices set input_per_mtok = input_per_mtok + 1 where model = (select max(model) from keep); commit;`);
    const diff = await diffMatchesFullCompare(relay, branch);
    const prices = diff.tables.find((t) => t.table === 'relay.model_prices')!;
    expect(prices).toMatchObject({ deleted: 1, updated: 1, inserted: 0, compared: 'whole table' });
    expect(prices.reason).toMatch(/rewritten/);
  });

  it('matches rows of a table without a primary key by content, duplicates included', async () => {
    const withLog = await engine.snapshot({ name: 'sync-audit', parent: sync, sql: [path.join(repoRoot, 'fixtures/diff/audit-log.sql')] });
    await using branch = await withLog.branch();
    await query(branch.url, `delete from audit_log where ctid in (select ctid from audit_log where actor = 'user-1' and action = 'seed-1' limit 2);
      insert into audit_log (actor, action) values ('user-9', 'login'), ('user-9', 'login');
      update audit_log set action = 'renamed' where ctid = (select ctid from audit_log where actor = 'user-2' limit 1);`);
    const diff = await diffMatchesFullCompare(withLog, branch);
    expect(diff.tables.find((t) => t.table === 'public.audit_log')).toMatchObject({ keyedBy: 'whole row', key: [], inserted: 3, deleted: 3, updated: 0 });
  });
});

describe('branch.diff() with the template driver', () => {
  const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'diff-template');
  afterAll(() => rm(cacheDir, { recursive: true, force: true }));

  it('compares a branch database with a fresh database of the same template', async () => {
    await using engine = await createEngine({ cacheDir, driver: 'template' });
    const snap = await engine.snapshot({ name: 'relay-store', sql: [recipe('relay-store')] });
    await using branch = await snap.branch();
    await query(branch.url, `delete from relay.requests where id % 500 = 0; update relay.accounts set name = name || '*' where id <= 2`);
    const diff = await diffMatchesFullCompare(snap, branch);
    expect(diff.tables.find((t) => t.table === 'relay.requests')).toMatchObject({ deleted: expect.any(Number) });
    expect(diff.stats.pagesChanged).toBeGreaterThan(0);
  });
});

const dockerMissing = dockerUnavailable();
describe.skipIf(dockerMissing && !requireAll())(`branch.diff() with the docker driver${dockerMissing ? ` (skipped: ${dockerMissing})` : ''}`, () => {
  const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'diff-docker');
  afterAll(() => rm(cacheDir, { recursive: true, force: true }));

  it('reads the container’s relation files through the server', async () => {
    expect(dockerMissing).toBeUndefined();
    await using engine = await createEngine({ cacheDir, driver: 'docker', docker: { image: TEST_IMAGE, network: 'host' } });
    const snap = await engine.snapshot({ name: 'relay-store', sql: [recipe('relay-store')] });
    await using branch = await snap.branch();
    await query(branch.url, `insert into relay.model_prices select model || '-v2', provider, input_per_mtok, output_per_mtok from relay.model_prices limit 2`);
    const diff = await diffMatchesFullCompare(snap, branch);
    expect(diff.tables.find((t) => t.table === 'relay.model_prices')).toMatchObject({ inserted: 2, compared: 'changed pages' });
  });
});
