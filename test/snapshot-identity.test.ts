import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '@pgbranch/core';
import { runSummary } from '@pgbranch/core/runner';
import { PoolServer } from '@pgbranch/core/server';
import { query } from './support/pg.js';
import { freshCacheDir, postgresProcessesUnder, repoRoot } from './support/processes.js';

const RECIPE = path.join(repoRoot, 'fixtures/recipes/relay-store');

/** An init that makes one marker table: every call returns a new function object with the same source. */
function initMaking(): (url: string) => Promise<void> {
  return async (url: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('create table init_marker (v int); insert into init_marker values (1)');
    await client.end();
  };
}

describe('what identifies a snapshot: its recipe (init included) by hash, and the name it was asked for', () => {
  const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'snapshot-identity');
  let engine: Engine;

  beforeAll(async () => {
    await freshCacheDir(cacheDir);
    engine = await createEngine({ cacheDir });
  });
  afterAll(async () => {
    await engine.close();
    await freshCacheDir(cacheDir);
    expect(postgresProcessesUnder(cacheDir)).toEqual([]);
  });

  it('reseeds when init’s body changes, and reuses the snapshot for the same source', async () => {
    const first = await engine.snapshot({ name: 'with-init', sql: [RECIPE], init: initMaking(), hashInputs: [] });
    const same = await engine.snapshot({ name: 'with-init', sql: [RECIPE], init: initMaking(), hashInputs: [] });
    expect(same.hash).toBe(first.hash);
    expect(same.reused).toBe(true);

    const changed = await engine.snapshot({
      name: 'with-init',
      sql: [RECIPE],
      hashInputs: [],
      init: async (url: string) => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        await client.query('create table init_marker (v int); insert into init_marker values (2)');
        await client.end();
      },
    });
    expect(changed.hash).not.toBe(first.hash);
    expect(changed.reused).toBe(false);
    await using branch = await changed.branch();
    expect(await query(branch.url, 'select v from init_marker')).toEqual([{ v: 2 }]);
  });

  it('shows the name a run asked for, though the cache entry was built under another name', async () => {
    const asVitest = await PoolServer.start({ engine: { cacheDir }, recipes: { default: { name: 'vitest', sql: [RECIPE] } }, pool: { warm: 0 } });
    const built = asVitest.snapshotInfo()[0]!;
    await asVitest.close();
    expect(built.name).toBe('vitest');

    const asJest = await PoolServer.start({ engine: { cacheDir }, recipes: { default: { name: 'jest', sql: [RECIPE] } }, pool: { warm: 0 } });
    try {
      expect(asJest.snapshotInfo()[0]).toMatchObject({ name: 'jest', hash: built.hash, reused: true });
      expect(runSummary(asJest).summary).toMatch(new RegExp(`snapshot jest reused from the cache \\(${built.hash.slice(0, 12)}\\)`));
    } finally {
      await asJest.close();
    }

    const snap = await engine.snapshot({ name: 'jest', sql: [RECIPE] });
    expect(snap.name).toBe('jest');
    expect((await engine.storedSnapshot('jest'))?.hash).toBe(built.hash);
    expect((await engine.storedSnapshot('vitest'))?.hash).toBe(built.hash);
    await expect(engine.snapshot({ name: '../../etc', sql: [RECIPE] })).rejects.toThrow(/Snapshot name "\.\.\/\.\.\/etc" is not valid/);
  });
});
