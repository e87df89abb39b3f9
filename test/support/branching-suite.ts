import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, SeedError, UsageError, type Engine, type Snapshot } from '@pgbranch/core';
import { query } from './pg.js';
import { cli, freshCacheDir, mountsUnder, postgresProcessesUnder, repoRoot, runScript, uidOf } from './processes.js';
import { clonerTarget, requireAll } from './targets.js';
import type { ClonerName } from '@pgbranch/core';

const SYNC_STORE = path.join(repoRoot, 'fixtures/recipes/sync-store');
const BROKEN = path.join(repoRoot, 'fixtures/recipes/broken');

/**
 * The behaviour every cloner must have, run once per cloner against real Postgres:
 * isolation, reset, branch of branch, destroy, cross-process reuse and seeding, broken SQL,
 * privilege drop, and reaping after SIGKILL.
 */
export function branchingSuite(clonerName: ClonerName, fileKey: string): void {
  const target = clonerTarget(clonerName);
  if (target.unavailable && !requireAll()) {
    describe.skip(`${clonerName} cloner (skipped: ${target.unavailable})`, () => {
      it('needs its filesystem', () => undefined);
    });
    return;
  }

  describe(`${clonerName} cloner`, () => {
    const cacheDir = target.cacheDir(fileKey);
    let engine: Engine;
    let snap: Snapshot;

    beforeAll(async () => {
      if (target.unavailable) throw new Error(`PGBRANCH_TEST_REQUIRE=all but ${target.unavailable}`);
      await freshCacheDir(cacheDir);
      engine = await createEngine({ cacheDir, cloner: clonerName });
      snap = await engine.snapshot({ name: 'sync-store', sql: [SYNC_STORE] });
    });

    afterAll(async () => {
      await engine?.close();
      expect(postgresProcessesUnder(cacheDir)).toEqual([]);
      expect(mountsUnder(cacheDir)).toEqual([]);
      await rm(cacheDir, { recursive: true, force: true });
    });

    it('uses the requested cloner and seeds the fixture', async () => {
      expect(engine.info().cloner).toBe(clonerName);
      expect(snap.reused).toBe(false);
      expect(snap.sizeBytes).toBeGreaterThan(10_000_000);
      await using branch = await snap.branch();
      const [row] = await query<{ n: string }>(branch.url, 'select count(*) as n from documents');
      expect(Number(row!.n)).toBeGreaterThan(0);
    });

    it('isolates branches from each other and from the snapshot', async () => {
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

    it('resets a branch to its snapshot on the same url', async () => {
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

    it('snapshots a branch and branches from that (branch of a branch)', async () => {
      await using parent = await snap.branch({ name: 'parent' });
      await query(parent.url, 'create table signups (email text)');
      await query(parent.url, "insert into signups values ('a@example.com')");
      const child = await parent.snapshot({ name: 'after-signup' });
      expect(child.reused).toBe(false);
      // The parent keeps running on its url and keeps its data.
      expect(await query(parent.url, 'select email from signups')).toEqual([{ email: 'a@example.com' }]);
      await using grandchild = await child.branch();
      await query(grandchild.url, "insert into signups values ('b@example.com')");
      expect(await query(grandchild.url, 'select count(*)::int as n from signups')).toEqual([{ n: 2 }]);
      expect(await query(parent.url, 'select count(*)::int as n from signups')).toEqual([{ n: 1 }]);
    });

    it('destroys a branch completely, twice safely, and rejects use afterwards', async () => {
      const branch = await snap.branch();
      const { dir, pid } = branch;
      expect(existsSync(dir)).toBe(true);
      await branch.destroy();
      await branch.destroy();
      expect(existsSync(dir)).toBe(false);
      expect(postgresProcessesUnder(dir)).toEqual([]);
      expect(() => process.kill(pid, 0)).toThrow();
      expect(() => branch.url).toThrow(UsageError);
      await expect(branch.reset()).rejects.toThrow(UsageError);
    });

    it('runs servers as an unprivileged user when root', async (ctx) => {
      if (process.getuid?.() !== 0) ctx.skip();
      await using branch = await snap.branch();
      expect(uidOf(branch.pid)).not.toBe(0);
      expect(engine.info().serverUser).not.toBe('root');
    });

    it('reuses a cached snapshot from another process without seeding', async () => {
      const { done } = runScript('seed.mjs', [cacheDir, clonerName, SYNC_STORE]);
      const result = await done;
      expect(result).toMatchObject({ hash: snap.hash, reused: true });
    });

    it('seeds a new recipe once when two processes ask at the same time', async () => {
      const dir = await mkdtemp(path.join(cacheDir, 'recipe-'));
      const file = path.join(dir, '001_slow.sql');
      // Unique content (a new hash) and a slow statement, so the two processes overlap.
      await writeFile(file, `create table seeded_at (token text);\ninsert into seeded_at values ('${path.basename(dir)}');\nselect pg_sleep(0.5);\n`);
      const first = runScript('seed.mjs', [cacheDir, clonerName, file]);
      const second = runScript('seed.mjs', [cacheDir, clonerName, file]);
      const results = await Promise.all([first.done, second.done]);
      expect(results[0]!.hash).toBe(results[1]!.hash);
      expect(results.map((r) => r.reused).sort()).toEqual([false, true]);
      const builds = (await readdir(path.join(cacheDir, 'snapshots'))).filter((n) => n.startsWith('.build-'));
      expect(builds).toEqual([]);
    });

    it('reports broken SQL with file and line, caches nothing, and works once fixed', async () => {
      const err = await engine.snapshot({ name: 'broken', sql: [BROKEN] }).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(SeedError);
      const seed = err as SeedError;
      expect(seed.file).toMatch(/002_orders\.sql$/);
      // fixtures/recipes/broken/EXPECTED.md: a misspelled DEFAULT on line 7, column 39.
      expect(seed.line).toBe(7);
      expect(seed.message).toContain('002_orders.sql:7:39');
      expect(seed.message).toContain('syntax error at or near "DEFAUL"');
      expect(seed.message).toContain('Nothing was cached');

      const dir = await mkdtemp(path.join(cacheDir, 'fixme-'));
      await cp(BROKEN, dir, { recursive: true });
      const bad = engine.snapshot({ name: 'fixme', sql: [dir] });
      await expect(bad).rejects.toThrow(SeedError);
      const entries = await readdir(path.join(cacheDir, 'snapshots'));
      expect(entries.filter((n) => n.startsWith('.build-'))).toEqual([]);
      await writeFile(path.join(dir, '002_orders.sql'), 'create table orders (id int primary key, total numeric);\n');
      const fixed = await engine.snapshot({ name: 'fixme', sql: [dir] });
      expect(fixed.reused).toBe(false);
      await using branch = await fixed.branch();
      expect(await query(branch.url, "select to_regclass('orders')::text as t")).toEqual([{ t: 'orders' }]);
    });

    it('reaps the servers, mounts and directories of a process killed with SIGKILL', async () => {
      const { child, done } = runScript('hold-branches.mjs', [cacheDir, clonerName, '2', SYNC_STORE], { untilLine: (l) => l.ready === true });
      const held = (await done) as { pids: number[]; dirs: string[]; session: string };
      for (const pid of held.pids) expect(() => process.kill(pid, 0)).not.toThrow();
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      // The servers outlive their owner until someone reaps them.
      expect(held.pids.filter((pid) => isRunning(pid)).length).toBeGreaterThan(0);

      const output = cli(['gc', '--cache-dir', cacheDir]);
      expect(output).toMatch(/stopped 2 servers/);
      for (const pid of held.pids) expect(isRunning(pid)).toBe(false);
      for (const dir of held.dirs) {
        expect(existsSync(dir)).toBe(false);
        expect(mountsUnder(dir)).toEqual([]);
      }
      expect(existsSync(path.join(cacheDir, 'sessions', `${held.session}.json`))).toBe(false);
      // Our own engine's branches are untouched by reaping.
      await using mine = await snap.branch();
      await mkdir(path.join(cacheDir, 'unrelated'), { recursive: true });
      await engine.gc();
      expect(await query(mine.url, 'select 1 as ok')).toEqual([{ ok: 1 }]);
    });

    it('reaps a SIGKILLed owner on the next createEngine', async () => {
      const { child, done } = runScript('hold-branches.mjs', [cacheDir, clonerName, '1', SYNC_STORE], { untilLine: (l) => l.ready === true });
      const held = (await done) as { pids: number[]; dirs: string[] };
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const next = await createEngine({ cacheDir, cloner: clonerName });
      await next.close();
      for (const pid of held.pids) expect(isRunning(pid)).toBe(false);
      for (const dir of held.dirs) expect(existsSync(dir)).toBe(false);
    });
  });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return postgresProcessesUnder('/').includes(pid);
  } catch {
    return false;
  }
}
