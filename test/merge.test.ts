import { spawn, spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, MergeConflictError, type Engine, type NamedBranches, type Snapshot } from '@pgbranch/core';
import { contents, naiveDiff } from './support/naive-diff.js';
import { query } from './support/pg.js';
import { postgresProcessesUnder, repoRoot } from './support/processes.js';
import { waitUntil } from './support/wait.js';
import { dockerUnavailable, TEST_IMAGE } from './support/docker.js';
import { requireAll } from './support/targets.js';

const MAIN = path.join(repoRoot, 'packages/core/dist/cli/main.js');
const recipe = (name: string) => path.join(repoRoot, 'fixtures/recipes', name);

describe('merging named branches', () => {
  const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'merge');
  let engine: Engine;
  let named: NamedBranches;
  let photos: Snapshot;
  let sync: Snapshot;
  const urlOf = async (name: string) => named.url(await named.get(name));
  const pgbranch = (args: string[]) => spawnSync(process.execPath, [MAIN, ...args, '--cache-dir', cacheDir], { encoding: 'utf8' });

  beforeAll(async () => {
    await rm(cacheDir, { recursive: true, force: true });
    engine = await createEngine({ cacheDir });
    named = engine.named();
    const catalog = await engine.snapshot({ name: 'photo-catalog', sql: [recipe('photo-catalog')] });
    photos = await engine.snapshot({ name: 'photo-audit', parent: catalog, sql: [path.join(repoRoot, 'fixtures/diff/audit-log.sql')] });
    sync = await engine.snapshot({ name: 'sync-store', sql: [recipe('sync-store')] });
  });
  afterAll(async () => {
    for (const b of (await named?.list()) ?? []) await named.destroy(b.name).catch(() => undefined);
    await engine?.close();
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('fast-forwards a target that did not change: it takes the source’s state on the same URL', async () => {
    await named.create('ff-main', sync);
    await named.create('ff-feature', 'ff-main');
    const feature = await urlOf('ff-feature');
    const doc = (await query<{ id: string }>(feature, 'select id from documents order by id limit 2')).map((r) => r.id);
    await query(feature, `update documents set name = 'renamed' where id = $1`, [doc[0]]);
    await query(feature, 'delete from documents where id = $1', [doc[1]]); // cascades
    const before = await urlOf('ff-main');
    const result = await named.merge('ff-feature', 'ff-main');
    expect(result).toMatchObject({ kind: 'fast-forward', applied: true });
    expect(await urlOf('ff-main')).toBe(before);
    expect(await contents(before)).toEqual(await contents(feature));
    expect(await named.merge('ff-feature', 'ff-main')).toMatchObject({ kind: 'up-to-date' });
    // The target still works as a branch of its own: a later change there is its own.
    await query(before, `update documents set name = 'main' where id = $1`, [doc[0]]);
    expect((await named.diff('ff-main', 'ff-feature')).tables.map((t) => [t.table, t.updated])).toContainEqual(['public.documents', 1]);
  });

  it('merges three ways: each side’s rows kept, the source’s inserts with their foreign keys, deletes, a log without a key', async () => {
    await named.create('tw-main', photos);
    await named.create('tw-feature', photos);
    const [main, feature] = [await urlOf('tw-main'), await urlOf('tw-feature')];
    const ids = (await query<{ id: string }>(main, 'select id::text from photos order by id limit 3')).map((r) => r.id);
    const version = (await query<{ id: number; dim: number }>(main, 'select id, embedding_dim as dim from model_versions order by id limit 1'))[0]!;
    await query(main, `update photos set tags = array['main'] where id = $1`, [ids[0]]);
    await query(main, `insert into audit_log (actor, action) values ('main', 'edit')`);
    await query(feature, `update photos set category = 'feature' where id = $1`, [ids[1]]);
    await query(feature, `delete from photos where id = $1`, [ids[2]]);
    const added = await query<{ id: string }>(feature, `insert into photos (storage_key, sha256, mime_type, width, height, bytes, category)
      values ('merge/new.jpg', decode(md5('merge') || md5('new'), 'hex'), 'image/jpeg', 10, 10, 100, 'new') returning id::text`);
    await query(feature, `insert into photo_embeddings (photo_id, model_version_id, dim, embedding)
      select $1, $2, $3, (select embedding from photo_embeddings where model_version_id = $2 limit 1)`, [added[0]!.id, version.id, version.dim]);
    await query(feature, `insert into audit_log (actor, action) values ('feature', 'upload'), ('feature', 'upload')`);
    const mainBefore = await contents(main);
    const result = await named.merge('tw-feature', 'tw-main');
    expect(result.kind).toBe('three-way');
    expect(result.conflicts).toEqual({ rows: [], schema: [] });
    // After the merge, main differs from feature only by main's own changes.
    expect(await naiveDiff(feature, main)).toEqual({ 'public.photos': { inserted: 0, updated: 1, deleted: 0 }, 'public.audit_log': { inserted: 1, deleted: 0, updated: 0 } });
    expect(await query(main, 'select category from photos where id = $1', [ids[1]])).toEqual([{ category: 'feature' }]);
    expect(await query(main, 'select count(*)::int as n from photo_embeddings where photo_id = $1', [added[0]!.id])).toEqual([{ n: 1 }]);
    expect(await contents(main)).not.toEqual(mainBefore);
    // The source's sequence moved the target's forward: a new photo on main does not take an id the merge brought.
    const next = await query<{ id: string }>(main, `insert into photos (storage_key, sha256, mime_type, width, height, bytes, category)
      values ('merge/after.jpg', decode(md5('after') || md5('x'), 'hex'), 'image/png', 1, 1, 1, 'x') returning id::text`);
    expect(BigInt(next[0]!.id)).toBeGreaterThan(BigInt(added[0]!.id));
    // Merging again changes nothing.
    const again = await named.merge('tw-feature', 'tw-main');
    expect(again.tables).toEqual([]);
  });

  it('lists conflicts with base, ours and theirs and applies nothing; a strategy settles them', async () => {
    await named.create('cf-main', photos);
    await named.create('cf-feature', photos);
    const [main, feature] = [await urlOf('cf-main'), await urlOf('cf-feature')];
    const id = (await query<{ id: string }>(main, 'select id::text from photos order by id limit 1'))[0]!.id;
    await query(main, `update photos set category = 'ours' where id = $1`, [id]);
    await query(feature, `update photos set category = 'theirs' where id = $1`, [id]);
    await query(feature, `insert into audit_log (actor, action) values ('feature', 'clean change')`);
    const before = await contents(main);
    const err = await named.merge('cf-feature', 'cf-main').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MergeConflictError);
    const conflict = (err as MergeConflictError).conflicts.rows[0]!;
    expect(conflict).toMatchObject({ table: 'public.photos', key: `{"id": ${id}}` });
    expect(JSON.parse(conflict.base!).category).not.toBe('ours');
    expect(JSON.parse(conflict.ours!).category).toBe('ours');
    expect(JSON.parse(conflict.theirs!).category).toBe('theirs');
    expect((err as Error).message).toMatch(/nothing was applied[\s\S]*--strategy/);
    expect(await contents(main)).toEqual(before);

    const cliDiff = pgbranch(['diff', 'cf-main', '--json']);
    expect(cliDiff.status).toBe(0);
    expect(JSON.parse(cliDiff.stdout).tables).toContainEqual(expect.objectContaining({ table: 'public.photos', updated: 1 }));
    const against = pgbranch(['diff', 'cf-main', 'cf-feature']);
    expect(against.stdout).toMatch(/branch cf-feature → branch cf-main[\s\S]*audit_log: +-1 row[\s\S]*photos: +~1 row[\s\S]*category "theirs" → "ours"/);
    const toSnapshot = pgbranch(['diff', 'cf-main', 'photo-audit', '--rows', '0']);
    expect(toSnapshot.status).toBe(0);
    expect(toSnapshot.stdout).toMatch(/snapshot photo-audit .* → branch cf-main/);
    const cliDry = pgbranch(['merge', 'cf-feature', '--into', 'cf-main', '--dry-run', '--json']);
    expect(cliDry.status).toBe(1);
    expect(JSON.parse(cliDry.stdout).conflicts.rows).toHaveLength(1);
    expect(await contents(main)).toEqual(before);

    const ours = await named.merge('cf-feature', 'cf-main', { strategy: 'ours' });
    expect(ours.conflicts.rows).toHaveLength(1);
    expect(await query(main, 'select category from photos where id = $1', [id])).toEqual([{ category: 'ours' }]);
    expect(await query(main, `select count(*)::int as n from audit_log where action = 'clean change'`)).toEqual([{ n: 1 }]);
    await named.merge('cf-feature', 'cf-main', { strategy: 'theirs' });
    expect(await query(main, 'select category from photos where id = $1', [id])).toEqual([{ category: 'theirs' }]);
    expect(await query(main, `select count(*)::int as n from audit_log where action = 'clean change'`)).toEqual([{ n: 1 }]);
  });

  it('applies the source’s schema changes in dependency order before its rows; the same object changed on both is a conflict', async () => {
    await named.create('sc-main', photos);
    await named.create('sc-feature', photos);
    const [main, feature] = [await urlOf('sc-main'), await urlOf('sc-feature')];
    await query(main, `update photos set tags = array['main'] where id = (select min(id) from photos)`);
    await query(feature, `
      alter table photos add column rating integer not null default 0;
      create index photos_rating_idx on photos (rating);
      create table albums (id bigint generated by default as identity primary key, photo_id bigint not null references photos (id), name text not null);
      insert into albums (photo_id, name) select id, 'album ' || id from photos order by id limit 5;
      update photos set rating = 5 where id = (select max(id) from photos);
      alter table photos add column reviewed boolean not null default false;
      alter table photos alter column reviewed drop default;`); // the way migration tools add a NOT NULL column
    const dry = await named.merge('sc-feature', 'sc-main', { dryRun: true });
    expect(dry).toMatchObject({ kind: 'three-way', applied: false });
    expect(dry.schema.map((c) => `${c.change} ${c.kind} ${c.id}`)).toEqual(expect.arrayContaining(['added table public.albums', 'added column public.photos.rating', 'added index public.photos_rating_idx']));
    expect(await query(main, `select count(*)::int as n from pg_tables where tablename = 'albums'`)).toEqual([{ n: 0 }]);
    const result = await named.merge('sc-feature', 'sc-main');
    expect(result.applied).toBe(true);
    expect(await query(main, 'select count(*)::int as n from albums')).toEqual([{ n: 5 }]);
    expect(await query(main, 'select rating from photos where id = (select max(id) from photos)')).toEqual([{ rating: 5 }]);
    expect(await query(main, `select indexdef from pg_indexes where indexname = 'photos_rating_idx'`)).toHaveLength(1);
    // The target's rows read the value the source's rows have in a column added with a default since dropped.
    expect(await query(main, 'select count(*)::int as n from photos where reviewed is distinct from false')).toEqual([{ n: 0 }]);
    expect(await query(main, `select column_default from information_schema.columns where table_name = 'photos' and column_name = 'reviewed'`)).toEqual([{ column_default: null }]);
    expect((await named.diff('sc-main', 'sc-feature')).schema).toEqual([]);

    await query(main, 'alter table albums add column note text');
    await query(feature, 'alter table albums add column note integer');
    const err = await named.merge('sc-feature', 'sc-main').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MergeConflictError);
    expect((err as MergeConflictError).conflicts.schema.map((c) => `${c.kind} ${c.id}`)).toEqual(['column public.albums.note']);
  });

  it('merges a migration that fills a new column then constrains it, renames a column, and rows using an enum label the source added', async () => {
    await named.create('mg-main', photos);
    const main = await urlOf('mg-main');
    await query(main, `create type photo_state as enum ('new', 'seen'); alter table photos add column state photo_state`);
    await named.create('mg-feature', 'mg-main'); // the enum is in their common ancestor
    const feature = await urlOf('mg-feature');
    await query(main, `insert into audit_log (actor, action) values ('main', 'not a fast-forward')`);
    await query(feature, `alter type photo_state add value 'archived'`);
    await query(feature, `
      update photos set state = 'archived' where id = (select max(id) from photos);
      alter table photos add column score integer;
      update photos set score = width % 7;
      alter table photos alter column score set not null;
      alter table photos add constraint photos_score_check check (score >= 0);
      create unique index photos_storage_score_idx on photos (storage_key, score);
      alter table photos rename column mime_type to media_type;`);
    const result = await named.merge('mg-feature', 'mg-main');
    expect(result).toMatchObject({ kind: 'three-way', applied: true });
    expect(result.plan!.schemaFirst).toEqual([expect.stringMatching(/ADD VALUE 'archived'/)]);
    expect(await query(main, `select count(*)::int as n from photos where state = 'archived'`)).toEqual([{ n: 1 }]);
    expect(await query(main, 'select count(*)::int as n from photos where score is distinct from width % 7')).toEqual([{ n: 0 }]);
    expect(await query(main, `select is_nullable from information_schema.columns where table_name = 'photos' and column_name = 'score'`)).toEqual([{ is_nullable: 'NO' }]);
    // A renamed column is renamed on the target, its values kept.
    expect(result.schema.map((c) => `${c.change} ${c.id}`)).toContain('changed public.photos.media_type');
    expect(await query(main, 'select count(*)::int as n from photos where media_type is null')).toEqual([{ n: 0 }]);
    expect((await named.diff('mg-main', 'mg-feature')).schema).toEqual([]);
  });

  it('refuses a merge whose rows would break a foreign key, and leaves the target as it was', async () => {
    await named.create('fk-main', photos);
    await named.create('fk-feature', photos);
    const [main, feature] = [await urlOf('fk-main'), await urlOf('fk-feature')];
    const [free] = await query<{ photo: string; version: number; dim: number }>(main, `select p.id::text as photo, v.id as version, v.embedding_dim as dim
      from photos p cross join model_versions v where exists (select 1 from photo_embeddings e where e.model_version_id = v.id)
      and not exists (select 1 from photo_embeddings e where e.photo_id = p.id and e.model_version_id = v.id) order by p.id, v.id limit 1`);
    const { photo, ...version } = { photo: free!.photo, id: free!.version, dim: free!.dim };
    await query(main, 'delete from photos where id = $1', [photo]); // ours deletes the parent…
    await query(feature, `insert into photo_embeddings (photo_id, model_version_id, dim, embedding)
      select $1, $2, $3, (select embedding from photo_embeddings where model_version_id = $2 limit 1)`, [photo, version.id, version.dim]); // …theirs adds a child
    const before = await contents(main);
    await expect(named.merge('fk-feature', 'fk-main')).rejects.toThrow(/photo_embeddings/);
    expect(await contents(main)).toEqual(before);
  });

  it('a merge killed with SIGKILL mid-transaction leaves the target intact, and gc reaps its comparison server', async () => {
    await named.create('kill-main', photos);
    await named.create('kill-feature', photos);
    const [main, feature] = [await urlOf('kill-main'), await urlOf('kill-feature')];
    await query(main, `update photos set tags = array['main'] where id = (select min(id) from photos)`);
    await query(feature, `insert into audit_log (actor, action) select 'bulk', 'row-' || g from generate_series(1, 300000) g`);
    const before = await contents(main);
    const child = spawn(process.execPath, [MAIN, 'merge', 'kill-feature', '--into', 'kill-main', '--cache-dir', cacheDir], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // Wait until the merge writes into the target (its transaction is open), then kill it.
    await waitUntil(async () => (await query(main, `select count(*)::int as n from pg_stat_activity where application_name = 'pgbranch diff' and query ilike 'insert%'`))[0]!.n > 0, 60_000, 20);
    child.kill('SIGKILL');
    await exited;
    await waitUntil(async () => (await query(main, `select count(*)::int as n from pg_stat_activity where application_name = 'pgbranch diff'`))[0]!.n === 0, 20_000);
    expect(await contents(main)).toEqual(before);
    const gc = pgbranch(['gc']);
    expect(gc.status).toBe(0);
    expect(postgresProcessesUnder(path.join(cacheDir, 'branches'))).toEqual([]);
    // And the merge, run again, completes.
    expect(await named.merge('kill-feature', 'kill-main')).toMatchObject({ kind: 'three-way', applied: true });
    expect(await query(main, `select count(*)::int as n from audit_log where actor = 'bulk'`)).toEqual([{ n: 300000 }]);
  });
});

const dockerMissing = dockerUnavailable();
describe.skipIf(dockerMissing && !requireAll())(`merging named branches with the docker driver${dockerMissing ? ` (skipped: ${dockerMissing})` : ''}`, () => {
  const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'merge-docker');
  afterAll(() => rm(cacheDir, { recursive: true, force: true }));

  it('diffs, fast-forwards and merges three ways: the comparison server opens data frozen with a branch’s own password', async () => {
    expect(dockerMissing).toBeUndefined();
    await using engine = await createEngine({ cacheDir, driver: 'docker', docker: { image: TEST_IMAGE, network: 'host' } });
    const named = engine.named();
    const urlOf = async (name: string) => named.url(await named.get(name));
    try {
      await named.create('dmain', await engine.snapshot({ name: 'relay-store', sql: [recipe('relay-store')] }));
      await named.create('dfeature', 'dmain');
      await query(await urlOf('dfeature'), `update relay.accounts set name = name || '!' where id = 1`);
      expect((await named.diff('dfeature')).tables.map((t) => [t.table, t.updated])).toEqual([['relay.accounts', 1]]);
      const url = await urlOf('dmain');
      expect(await named.merge('dfeature', 'dmain')).toMatchObject({ kind: 'fast-forward', applied: true });
      expect(await urlOf('dmain')).toBe(url);
      await query(url, `update relay.accounts set name = 'main' where id = 2`);
      await query(await urlOf('dfeature'), `update relay.accounts set name = 'feature' where id = 3`);
      expect(await named.merge('dfeature', 'dmain')).toMatchObject({ kind: 'three-way', applied: true });
      expect(await query(url, 'select id, name from relay.accounts where id <= 3 order by id')).toEqual([
        { id: 1, name: expect.stringMatching(/!$/) },
        { id: 2, name: 'main' },
        { id: 3, name: 'feature' },
      ]);
    } finally {
      for (const b of await named.list()) await named.destroy(b.name);
    }
  });
});
