import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, PgbranchError, SeedError, type Engine } from '@pgbranch/core';
import { query } from './support/pg.js';
import { freshCacheDir } from './support/processes.js';

describe('seeding', () => {
  const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'seeding');
  let engine: Engine;
  let dir: string;

  beforeAll(async () => {
    await freshCacheDir(cacheDir);
    engine = await createEngine({ cacheDir, cloner: 'copy' });
    dir = await mkdtemp(path.join(os.tmpdir(), 'pgbranch-seeding-'));
  });
  afterAll(async () => {
    await engine.close();
    await rm(cacheDir, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
  });

  async function file(name: string, text: string): Promise<string> {
    const full = path.join(dir, name);
    await writeFile(full, text);
    return full;
  }

  it('runs a file that opts out of the transaction statement by statement', async () => {
    const schema = await file('a1.sql', 'create table items (id int primary key, label text);\ninsert into items select g, g::text from generate_series(1, 100) g;\n');
    const concurrent = await file('a2.sql', '-- pgbranch: no-transaction\ncreate index concurrently items_label on items (label);\nvacuum analyze items;\n');
    const snap = await engine.snapshot({ name: 'no-tx', sql: [schema, concurrent] });
    await using branch = await snap.branch();
    expect(await query(branch.url, "select indexname from pg_indexes where tablename = 'items' order by 1")).toEqual([
      { indexname: 'items_label' },
      { indexname: 'items_pkey' },
    ]);
  });

  it('names the statement line of an error Postgres reports without a position', async () => {
    const bad = await file('b1.sql', 'create table t (id int primary key);\n\ninsert into t values (1);\ninsert into t\n  values (1);\n');
    const err = (await engine.snapshot({ name: 'dup', sql: [bad] }).catch((e: unknown) => e)) as SeedError;
    expect(err).toBeInstanceOf(SeedError);
    expect(err.line).toBe(4);
    expect(err.message).toContain('b1.sql:4 (statement starting here)');
    expect(err.message).toMatch(/duplicate key value violates unique constraint "t_pkey"/);
    expect(err.message).toContain('DETAIL: Key (id)=(1) already exists.');
  });

  it('runs init(url) after the SQL files, and a failing init caches nothing', async () => {
    const schema = await file('c1.sql', 'create table migrations (name text);\n');
    let calls = 0;
    const init = async (url: string) => {
      calls++;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query("insert into migrations values ('from-init')");
      await client.end();
    };
    const snap = await engine.snapshot({ name: 'init', sql: [schema], init });
    await using branch = await snap.branch();
    expect(await query(branch.url, 'select name from migrations')).toEqual([{ name: 'from-init' }]);
    expect((await engine.snapshot({ name: 'init', sql: [schema], init })).reused).toBe(true);
    expect(calls).toBe(1);

    const failing = engine.snapshot({ name: 'init-fails', sql: [schema], init: () => Promise.reject(new Error('migration 7 failed')), hashInputs: [schema] });
    await expect(failing).rejects.toThrow(PgbranchError);
    await expect(failing).rejects.toThrow(/init\(\) failed: migration 7 failed/);
    expect((await readdir(path.join(cacheDir, 'snapshots'))).filter((n) => n.startsWith('.build-'))).toEqual([]);
  });

  it('reseeds when a hashInputs file changes', async () => {
    const schema = await file('d1.sql', 'create table d (x int);\n');
    const input = await file('d-migrations.txt', 'v1');
    const first = await engine.snapshot({ name: 'inputs', sql: [schema], hashInputs: [input] });
    expect((await engine.snapshot({ name: 'inputs', sql: [schema], hashInputs: [input] })).hash).toBe(first.hash);
    await writeFile(input, 'v2');
    const second = await engine.snapshot({ name: 'inputs', sql: [schema], hashInputs: [input] });
    expect(second.hash).not.toBe(first.hash);
    expect(second.reused).toBe(false);
  });

  it('layers a recipe on a parent snapshot', async () => {
    const parentSql = await file('e1.sql', 'create table layered (x int);\ninsert into layered values (1);\n');
    const childSql = await file('e2.sql', 'insert into layered values (2);\n');
    const parent = await engine.snapshot({ name: 'parent', sql: [parentSql] });
    const child = await engine.snapshot({ name: 'child', sql: [childSql], parent });
    expect(child.meta.parent).toBe(parent.hash);
    await using branch = await child.branch();
    expect(await query(branch.url, 'select x from layered order by x')).toEqual([{ x: 1 }, { x: 2 }]);
    await using fromParent = await parent.branch();
    expect(await query(fromParent.url, 'select x from layered order by x')).toEqual([{ x: 1 }]);
  });

  it('rejects a missing SQL path up front, naming it', async () => {
    await expect(engine.snapshot({ name: 'missing', sql: [path.join(dir, 'nope.sql')] })).rejects.toThrow(/nope\.sql does not exist/);
    expect(existsSync(path.join(dir, 'nope.sql'))).toBe(false);
  });
});
