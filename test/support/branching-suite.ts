import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { createEngine, SeedError, UsageError, type Branch, type Engine, type EngineOptions, type Snapshot } from '@pgbranch/core';
import type { BranchResources } from './driver-checks.js';
import { query } from './pg.js';
import { holdThenKill } from './held-branches.js';
import { cli, freshCacheDir, repoRoot, runScript } from './processes.js';
import type { Scenario, SuiteTarget } from './suite-target.js';
import { requireAll } from './targets.js';

const SYNC_STORE = path.join(repoRoot, 'fixtures/recipes/sync-store');
const BROKEN = path.join(repoRoot, 'fixtures/recipes/broken');

/** The engine and seeded snapshot of a running suite, for scenarios a test file adds for its own driver. */
export interface SuiteContext {
  target: SuiteTarget;
  cacheDir: string;
  engineOptions: EngineOptions & { cacheDir: string };
  engine: Engine;
  /** The sync-store fixture, seeded once per suite. */
  snap: Snapshot;
}

export interface BranchingSuiteOptions {
  /** Names this file's cache directory (unique per test file of a target). @default 'suite' */
  file?: string;
  /** Registers scenarios only this target has; they run inside the suite, on its engine and snapshot. */
  more?: (suite: () => SuiteContext) => void;
}

/**
 * The behaviour every driver configuration must have, run against real Postgres: isolation, reset, branch of branch,
 * destroy, suspend and resume, privilege drop, cross-process reuse and seeding, broken SQL, and reaping after SIGKILL.
 * What "nothing leaked" means comes from the target's driver checks.
 */
export function branchingSuite(target: SuiteTarget, options: BranchingSuiteOptions = {}): void {
  if (target.unavailable && !requireAll()) {
    describe.skip(`${target.label} (skipped: ${target.unavailable})`, () => {
      it('needs its requirements', () => undefined);
    });
    return;
  }

  describe(target.label, () => {
    const cacheDir = target.cacheDir(options.file ?? 'suite');
    const engineOptions = { ...target.options, cacheDir };
    const { checks } = target;
    let engine: Engine;
    let snap: Snapshot;
    const scenario = (id: Scenario, name: string, fn: (ctx: TestContext) => Promise<void>) => {
      const reason = target.notApplicable?.[id];
      if (reason) it.skip(`${name} (not applicable: ${reason})`, () => undefined);
      else it(name, fn);
    };
    const resourcesOf = (b: Branch): BranchResources => ({ pid: b.pid, dir: b.dir, containerId: b.containerId, database: b.connectionOptions().database });
    beforeAll(async () => {
      if (target.unavailable) throw new Error(`PGBRANCH_TEST_REQUIRE=all but ${target.unavailable}`);
      await freshCacheDir(cacheDir);
      engine = await createEngine(engineOptions);
      snap = await engine.snapshot({ name: 'sync-store', sql: [SYNC_STORE] });
    });

    afterAll(async () => {
      await engine?.close();
      expect(checks.leftovers(cacheDir)).toEqual([]);
      expect(checks.branchSnapshots(cacheDir)).toEqual([]);
      await freshCacheDir(cacheDir);
    });

    scenario('seeds', 'uses the requested driver configuration and seeds the fixture', async () => {
      expect(engine.info()).toMatchObject(target.info);
      expect(snap.reused).toBe(false);
      expect(snap.sizeBytes).toBeGreaterThan(10_000_000);
      await using branch = await snap.branch();
      const [row] = await query<{ n: string }>(branch.url, 'select count(*) as n from documents');
      expect(Number(row!.n)).toBeGreaterThan(0);
    });

    scenario('isolation', 'isolates branches from each other and from the snapshot', async () => {
      await using a = await snap.branch({ name: 'a' });
      await using b = await snap.branch({ name: 'b' });
      expect(a.url).not.toBe(b.url);
      await query(a.url, 'create table only_in_a (id int)');
      await query(a.url, "update documents set name = 'changed in a' where id = (select id from documents order by id limit 1)");
      expect(await query(b.url, "select to_regclass('only_in_a') as t")).toEqual([{ t: null }]);
      expect(await query(b.url, "select count(*)::int as n from documents where name = 'changed in a'")).toEqual([{ n: 0 }]);
      await using c = await snap.branch({ name: 'c' });
      expect(await query(c.url, "select to_regclass('only_in_a') as t")).toEqual([{ t: null }]);
    });

    scenario('reset', 'resets a branch to its snapshot on the same url', async () => {
      await using branch = await snap.branch();
      const url = branch.url;
      const before = await query<{ n: number }>(url, 'select count(*)::int as n from documents');
      await query(url, 'delete from operations');
      await query(url, 'delete from documents');
      await query(url, 'create table scratch (x int)');
      await branch.reset();
      expect(branch.url).toBe(url);
      expect(await query(url, 'select count(*)::int as n from documents')).toEqual(before);
      expect(await query(url, "select to_regclass('scratch') as t")).toEqual([{ t: null }]);
    });

    scenario('branch-of-branch', 'snapshots a branch and branches from that (branch of a branch)', async () => {
      await using parent = await snap.branch({ name: 'parent' });
      await query(parent.url, 'create table signups (email text)');
      await query(parent.url, "insert into signups values ('a@example.com')");
      const child = await parent.snapshot({ name: 'after-signup' });
      expect(child.reused).toBe(false);
      expect(checks.branchSnapshots(cacheDir, engine.info().session)).toHaveLength(1);
      // The parent keeps running on its url and keeps its data.
      expect(await query(parent.url, 'select email from signups')).toEqual([{ email: 'a@example.com' }]);
      await using grandchild = await child.branch();
      await query(grandchild.url, "insert into signups values ('b@example.com')");
      expect(await query(grandchild.url, 'select count(*)::int as n from signups')).toEqual([{ n: 2 }]);
      expect(await query(parent.url, 'select count(*)::int as n from signups')).toEqual([{ n: 1 }]);
    });

    scenario('destroy', 'destroys a branch completely, twice safely, and rejects use afterwards', async () => {
      const branch = await snap.branch();
      const resources = resourcesOf(branch);
      const url = branch.url;
      expect(checks.runningServers(resources)).not.toEqual([]);
      expect(checks.storage(resources)).not.toEqual([]);
      await branch.destroy();
      await branch.destroy();
      expect(checks.runningServers(resources)).toEqual([]);
      expect(checks.storage(resources)).toEqual([]);
      await expect(query(url, 'select 1')).rejects.toThrow();
      expect(() => branch.url).toThrow(UsageError);
      await expect(branch.reset()).rejects.toThrow(UsageError);
    });

    scenario('suspend', 'suspends a branch (server stopped, data kept) and resumes it on the same url', async () => {
      await using branch = await snap.branch();
      await query(branch.url, 'delete from documents where id in (select id from documents order by id limit 10)');
      const kept = await query<{ n: number }>(branch.url, 'select count(*)::int as n from documents');
      const url = branch.url;
      const storage = checks.storage(resourcesOf(branch));
      await branch.suspend();
      expect(branch.state).toBe('suspended');
      expect(checks.runningServers(resourcesOf(branch))).toEqual([]);
      expect(checks.storage(resourcesOf(branch))).not.toEqual([]);
      await expect(query(url, 'select 1')).rejects.toThrow();
      await branch.resume();
      expect(branch.state).toBe('running');
      expect(branch.url).toBe(url);
      // The same directory, mounts or container as before.
      expect(checks.storage(resourcesOf(branch))).toEqual(storage);
      expect(await query(url, 'select count(*)::int as n from documents')).toEqual(kept);
    });

    scenario('privilege-drop', 'runs servers as an unprivileged user when root', async (ctx) => {
      if (process.getuid?.() !== 0) ctx.skip();
      await using branch = await snap.branch();
      const uid = checks.serverUid(resourcesOf(branch));
      expect(uid).toBeTypeOf('number');
      expect(uid).not.toBe(0);
      expect(engine.info().serverUser).not.toBe('root');
    });

    scenario('cross-process-reuse', 'reuses a cached snapshot from another process without seeding', async () => {
      const { done } = runScript('seed.mjs', [JSON.stringify(engineOptions), SYNC_STORE]);
      expect(await done).toMatchObject({ hash: snap.hash, reused: true });
    });

    scenario('concurrent-seed', 'seeds a new recipe once when two processes ask at the same time', async () => {
      // What this suite's own engine runs (the template driver's shared server) is not the seeders' to remove.
      const ours = checks.leftovers(cacheDir);
      const dir = await mkdtemp(path.join(cacheDir, 'recipe-'));
      const file = path.join(dir, '001_slow.sql');
      // Unique content (a new hash) and a slow statement, so the two processes overlap.
      await writeFile(file, `create table seeded_at (token text);\ninsert into seeded_at values ('${path.basename(dir)}');\nselect pg_sleep(0.5);\n`);
      const first = runScript('seed.mjs', [JSON.stringify(engineOptions), file]);
      const second = runScript('seed.mjs', [JSON.stringify(engineOptions), file]);
      const results = await Promise.all([first.done, second.done]);
      expect(results[0]!.hash).toBe(results[1]!.hash);
      expect(results.map((r) => r.reused).sort()).toEqual([false, true]);
      expect(await unfinishedBuilds(cacheDir)).toEqual([]);
      expect(checks.leftovers(cacheDir)).toEqual(ours);
      await rm(dir, { recursive: true });
    });

    scenario('broken-sql', 'reports broken SQL with file and line, caches nothing, and works once fixed', async () => {
      const ours = checks.leftovers(cacheDir);
      const err = await engine.snapshot({ name: 'broken', sql: [BROKEN] }).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(SeedError);
      const seed = err as SeedError;
      expect(seed.file).toMatch(/002_orders\.sql$/);
      // fixtures/recipes/broken/EXPECTED.md: a misspelled DEFAULT on line 7, column 39.
      expect(seed.line).toBe(7);
      expect(seed.message).toContain('002_orders.sql:7:39');
      expect(seed.message).toContain('syntax error at or near "DEFAUL"');
      expect(seed.message).toContain('Nothing was cached');
      // The server that ran the recipe is gone too.
      expect(checks.leftovers(cacheDir)).toEqual(ours);

      const dir = await mkdtemp(path.join(cacheDir, 'fixme-'));
      await cp(BROKEN, dir, { recursive: true });
      const bad = engine.snapshot({ name: 'fixme', sql: [dir] });
      await expect(bad).rejects.toThrow(SeedError);
      expect(await unfinishedBuilds(cacheDir)).toEqual([]);
      await writeFile(path.join(dir, '002_orders.sql'), 'create table orders (id int primary key, total numeric);\n');
      const fixed = await engine.snapshot({ name: 'fixme', sql: [dir] });
      expect(fixed.reused).toBe(false);
      await using branch = await fixed.branch();
      expect(await query(branch.url, "select to_regclass('orders')::text as t")).toEqual([{ t: 'orders' }]);
    });

    scenario('reap-by-gc', 'reaps the servers, data and branch snapshots of a process killed with SIGKILL (pgbranch gc)', async () => {
      const { held, servers, remains } = await holdThenKill(checks, engineOptions, 2, SYNC_STORE);
      // Two branches are two servers, or one shared server (template driver).
      const serverCount = new Set(held.branches.map((b) => b.pid ?? b.containerId)).size;
      expect(cli(['gc', '--cache-dir', cacheDir])).toMatch(new RegExp(`stopped ${serverCount} servers?`));
      expect(servers()).toEqual([]);
      expect(remains()).toEqual([]);
      expect(existsSync(path.join(cacheDir, 'sessions', `${held.session}.json`))).toBe(false);
      // Our own engine's branches are untouched by reaping.
      await using mine = await snap.branch();
      await mkdir(path.join(cacheDir, 'unrelated'), { recursive: true });
      await engine.gc();
      expect(await query(mine.url, 'select 1 as ok')).toEqual([{ ok: 1 }]);
    });

    scenario('reap-by-next-engine', 'reaps a SIGKILLed owner on the next createEngine', async () => {
      const { servers, remains } = await holdThenKill(checks, engineOptions, 1, SYNC_STORE);
      const next = await createEngine(engineOptions);
      await next.close();
      expect(servers()).toEqual([]);
      expect(remains()).toEqual([]);
    });

    options.more?.(() => ({ target, cacheDir, engineOptions, engine, snap }));
  });
}

/** Half-built snapshot directories (`.build-*`) a failed or raced seed would leave. */
async function unfinishedBuilds(cacheDir: string): Promise<string[]> {
  const dir = path.join(cacheDir, 'snapshots');
  return existsSync(dir) ? (await readdir(dir)).filter((n) => n.startsWith('.build-')) : [];
}
