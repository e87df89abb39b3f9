import { readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, Keeper, type Engine, type KeeperEvent, type NamedBranches, type Snapshot } from '@pgbranch/core';
import { query } from './support/pg.js';
import { freshCacheDir, postgresProcessesUnder, repoRoot } from './support/processes.js';
import { waitUntil } from './support/wait.js';

const RECIPE = path.join(repoRoot, 'fixtures/recipes/relay-store');

describe('waking a suspended named branch', () => {
  const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'wake-on-connect');
  let engine: Engine;
  let snap: Snapshot;
  let named: NamedBranches;

  beforeAll(async () => {
    await freshCacheDir(cacheDir);
    engine = await createEngine({ cacheDir });
    snap = await engine.snapshot({ name: 'relay', sql: [RECIPE] });
    named = engine.named();
  });
  afterAll(async () => {
    for (const b of await named.list()) await named.destroy(b.name);
    await engine.close();
    expect(postgresProcessesUnder(cacheDir)).toEqual([]);
    await rm(cacheDir, { recursive: true, force: true });
  });

  /**
   * Resumes `name`; in onServing (called while resume still runs) a client queries the branch's URL, and the
   * promise onServing returns resolves once that query is done: resume's own check waits for it.
   */
  async function resumeQueryingWhenServing(name: string, url: string): Promise<{ calls: number; resumedFirst: boolean; rows: unknown[] }> {
    let calls = 0;
    let resumed = false;
    let resumedFirst = false;
    let first: Promise<unknown[]> | undefined;
    await named
      .resume(name, {
        onServing: async () => {
          calls++;
          first ??= query(url, 'select x from t');
          await first;
          resumedFirst ||= resumed;
        },
      })
      .then(() => (resumed = true));
    return { calls, resumedFirst, rows: (await first) ?? [] };
  }

  it('lets a client in with the branch URL as soon as the server accepts connections, before resume ends', async () => {
    const info = await named.create('early', snap);
    const url = named.url(info);
    await query(url, 'create table t (x int); insert into t values (1)');
    await named.suspend('early');
    const woken = await resumeQueryingWhenServing('early', url);
    expect(woken).toEqual({ calls: 1, resumedFirst: false, rows: [{ x: 1 }] });
    expect((await named.get('early')).state).toBe('running');
    await named.destroy('early');
  });

  it('lets the client in only once the branch has its own password again (a crash had left the old one)', async () => {
    const info = await named.create('repassword', snap);
    const url = named.url(info);
    await query(url, "create table t (x int); insert into t values (2); alter role current_user password 'left-by-a-crash'");
    await named.suspend('repassword');
    // What a crash between starting the server and giving it its own password leaves in the record.
    const metaPath = path.join(named.dir('repassword'), 'branch.json');
    const { credentials: _dropped, ...meta } = JSON.parse(await readFile(metaPath, 'utf8'));
    await writeFile(metaPath, JSON.stringify(meta));
    const woken = await resumeQueryingWhenServing('repassword', url);
    expect(woken).toEqual({ calls: 1, resumedFirst: false, rows: [{ x: 2 }] });
    await named.destroy('repassword');
  });

  it('pipes the waking client through the keeper, password exchange included, while later clients go straight in', async () => {
    const info = await named.create('woken', snap);
    const url = named.url(info);
    await query(url, 'create table t (x int); insert into t select generate_series(1, 3)');
    const events: KeeperEvent[] = [];
    const keeper = new Keeper(engine, { intervalMs: 50, idleAfterMs: 3_600_000, suspendAfterMs: 3_600_000, onEvent: (e) => events.push(e) });
    await keeper.start();
    const count = (action: KeeperEvent['action']) => events.filter((e) => e.branch === 'woken' && e.action === action).length;
    try {
      for (let round = 1; round <= 3; round++) {
        await named.suspend('woken');
        await keeper.tick();
        expect(count('holding')).toBe(round);
        expect(await query<{ n: number }>(url, 'select count(*)::int as n from t')).toEqual([{ n: 3 }]);
        expect(await query<{ x: number }>(url, 'select x from t where x = $1', [round])).toEqual([{ x: round }]);
        await waitUntil(() => count('woke') === round, 10_000, 20);
      }
      expect(events.filter((e) => e.action === 'error')).toEqual([]);
    } finally {
      await keeper.close();
    }
    await named.destroy('woken');
  });
});
