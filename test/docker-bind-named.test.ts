import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type NamedBranches, type Snapshot } from '@pgbranch/core';
import { containersOf, containerState, dockerUnavailable, TEST_IMAGE } from './support/docker.js';
import { query } from './support/pg.js';
import { freshCacheDir, repoRoot } from './support/processes.js';
import { requireAll } from './support/targets.js';

const RECIPE = path.join(repoRoot, 'fixtures/recipes/relay-store');
const btrfsDir = process.env.PGBRANCH_TEST_BTRFS_DIR;
const unavailable = dockerUnavailable() ?? (btrfsDir ? undefined : 'PGBRANCH_TEST_BTRFS_DIR is not set');
const cacheDir = path.join(btrfsDir ?? '', 'pgbranch-test', 'docker-bind-named');
const options = { cacheDir, driver: 'docker' as const, docker: { image: TEST_IMAGE, network: 'host' as const, storage: 'bind' as const } };
const count = async (url: string) => (await query<{ n: number }>(url, 'select count(*)::int as n from relay.requests'))[0]!.n;

if (unavailable && !requireAll()) {
  describe.skip(`named branches on Docker with bind storage (skipped: ${unavailable})`, () => it('needs Docker and btrfs', () => undefined));
} else {
  describe('named branches on Docker with bind storage', () => {
    let engine: Engine;
    let snap: Snapshot;
    let named: NamedBranches;

    beforeAll(async () => {
      if (unavailable) throw new Error(`PGBRANCH_TEST_REQUIRE=all but ${unavailable}`);
      await freshCacheDir(cacheDir);
      engine = await createEngine(options);
      snap = await engine.snapshot({ name: 'relay-store', sql: [RECIPE] });
      named = engine.named();
    });
    afterAll(async () => {
      for (const b of (await named?.list()) ?? []) await named.destroy(b.name);
      await engine?.close();
      expect(containersOf(cacheDir)).toEqual([]);
      await freshCacheDir(cacheDir);
    });

    it('keeps its data in a host clone in the branch directory through suspend, resume, branching and reset', async () => {
      const info = await named.create('bind-a', snap);
      const dir = path.join(cacheDir, 'named', 'bind-a');
      expect(JSON.parse(readFileSync(path.join(dir, 'branch.json'), 'utf8')).docker).toEqual({ image: TEST_IMAGE, network: 'host', storage: 'bind', dockerHost: process.env.DOCKER_HOST || 'unix:///var/run/docker.sock' });
      expect(existsSync(path.join(dir, 'data', 'PG_VERSION'))).toBe(true);
      const url = named.url(info);
      await query(url, 'delete from relay.requests where id % 2 = 0');
      await named.suspend('bind-a');
      expect(containersOf(cacheDir).map(containerState)).toEqual(['exited']);
      expect((await named.resume('bind-a')).port).toBe(info.port);
      expect(await count(url)).toBe(20000);

      const child = await named.create('bind-b', 'bind-a');
      await query(named.url(child), 'delete from relay.requests');
      expect(await count(url)).toBe(20000);
      await named.reset('bind-b');
      expect(await count(named.url(child))).toBe(20000);
      await named.destroy('bind-b');
      await named.destroy('bind-a');
      expect(existsSync(dir)).toBe(false);
      expect(containersOf(cacheDir)).toEqual([]);
    });

    it('keeps an engine branch: its data becomes the named branch, the engine branch goes', async () => {
      const branch = await snap.branch();
      const branchDir = branch.dir!;
      expect(existsSync(path.join(branchDir, 'data', 'PG_VERSION'))).toBe(true);
      await query(branch.url, 'delete from relay.requests where id > 100');
      const kept = await named.adopt('bind-kept', branch);
      expect(await count(named.url(kept))).toBe(100);
      expect(existsSync(branchDir)).toBe(false);
      await named.destroy('bind-kept');
      expect(containersOf(cacheDir)).toEqual([]);
    });
  });
}
