import { mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, SeedError, UsageError, type Engine, type Snapshot } from '@pgbranch/core';
import { containerState, containersOf, dockerUnavailable, ephemeralImagesOf, ephemeralSnapshotDirs, TEST_IMAGE } from './support/docker.js';
import { query } from './support/pg.js';
import { cli, freshCacheDir, repoRoot, runScript } from './support/processes.js';
import { requireAll } from './support/targets.js';
import os from 'node:os';

const RECIPE = path.join(repoRoot, 'fixtures/recipes/relay-store');
const BROKEN = path.join(repoRoot, 'fixtures/recipes/broken');
const dockerMissing = dockerUnavailable();
const btrfsDir = process.env.PGBRANCH_TEST_BTRFS_DIR;
// 'image': snapshot images and container layers; 'bind': host btrfs clones bind-mounted into containers.
const storages = [
  { storage: 'image' as const, root: os.tmpdir(), unavailable: dockerMissing, cloner: 'docker-layers' },
  { storage: 'bind' as const, root: btrfsDir ?? '', unavailable: dockerMissing ?? (btrfsDir ? undefined : 'PGBRANCH_TEST_BTRFS_DIR is not set'), cloner: 'btrfs' },
];

for (const { storage, root, unavailable, cloner } of storages) {
  const cacheDir = path.join(root, 'pgbranch-test', `docker-${storage}`);
  const options = { cacheDir, driver: 'docker' as const, docker: { image: TEST_IMAGE, network: 'host' as const, storage } };
  const leftovers = (session?: string) => (storage === 'image' ? ephemeralImagesOf(cacheDir, session) : ephemeralSnapshotDirs(cacheDir, session));

  if (unavailable && !requireAll()) {
    describe.skip(`docker driver, ${storage} storage (skipped: ${unavailable})`, () => it('needs Docker', () => undefined));
    continue;
  }
  describe(`docker driver, ${storage} storage`, () => {
    let engine: Engine;
    let snap: Snapshot;

    beforeAll(async () => {
      if (unavailable) throw new Error(`PGBRANCH_TEST_REQUIRE=all but ${unavailable}`);
      await freshCacheDir(cacheDir);
      engine = await createEngine(options);
      snap = await engine.snapshot({ name: 'relay-store', sql: [RECIPE] });
    });
    afterAll(async () => {
      await engine?.close();
      expect(containersOf(cacheDir)).toEqual([]);
      expect(leftovers()).toEqual([]);
      await freshCacheDir(cacheDir);
    });

    it('runs branches as containers of a committed snapshot image', async () => {
      expect(engine.info()).toMatchObject({ driver: 'docker', cloner, image: TEST_IMAGE, postgresVersion: expect.stringMatching(/^18/) });
      await using branch = await snap.branch();
      expect(branch.containerId).toMatch(/^[0-9a-f]{64}$/);
      expect(branch.url).toMatch(/@127\.0\.0\.1:\d+\/postgres$/);
      expect(await query(branch.url, 'select count(*)::int as n from relay.api_keys')).toEqual([{ n: 2000 }]);
    });

    it('isolates branches, resets on the same url, and snapshots a branch', async () => {
      await using a = await snap.branch();
      await using b = await snap.branch();
      await query(a.url, 'delete from relay.requests');
      expect(await query(b.url, 'select count(*)::int as n from relay.requests')).toEqual([{ n: 40000 }]);
      const child = await a.snapshot({ name: 'no-requests' });
      const url = a.url;
      await a.reset();
      expect(a.url).toBe(url);
      expect(await query(a.url, 'select count(*)::int as n from relay.requests')).toEqual([{ n: 40000 }]);
      await using c = await child.branch();
      expect(await query(c.url, 'select count(*)::int as n from relay.requests')).toEqual([{ n: 0 }]);
    });

    it('suspends a branch (container stopped, data kept) and resumes it on the same url', async () => {
      await using branch = await snap.branch();
      await query(branch.url, 'delete from relay.requests where id % 2 = 0');
      const url = branch.url;
      const id = branch.containerId!;
      await branch.suspend();
      expect(branch.state).toBe('suspended');
      expect(containerState(id)).toBe('exited');
      await expect(query(url, 'select 1')).rejects.toThrow();
      await branch.resume();
      expect(branch.url).toBe(url);
      expect(branch.containerId).toBe(id);
      expect(await query(url, 'select count(*)::int as n from relay.requests')).toEqual([{ n: 20000 }]);
    });

    it('destroys a branch container, twice safely', async () => {
      const branch = await snap.branch();
      const id = branch.containerId!;
      await branch.destroy();
      await branch.destroy();
      expect(containersOf(cacheDir).some((c) => id.startsWith(c))).toBe(false);
      expect(() => branch.url).toThrow(UsageError);
    });

    it('reuses the cached snapshot image from another process', async () => {
      const other = await createEngine(options);
      try {
        const again = await other.snapshot({ name: 'relay-store', sql: [RECIPE] });
        expect(again).toMatchObject({ hash: snap.hash, reused: true });
      } finally {
        await other.close();
      }
    });

    it('reports broken SQL with file and line, and caches nothing', async () => {
      const err = (await engine.snapshot({ name: 'broken', sql: [BROKEN] }).catch((e: unknown) => e)) as SeedError;
      expect(err).toBeInstanceOf(SeedError);
      expect(err.message).toContain('002_orders.sql:7:39');
      expect(containersOf(cacheDir)).toEqual([]);
    });

    it('names an image without Postgres in its error', async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'pgbranch-noimage-'));
      await writeFile(path.join(dir, 'x'), '');
      await expect(createEngine({ ...options, cacheDir: dir, docker: { image: 'pgbranch-test/does-not-exist:1', network: 'host' } })).rejects.toThrow(
        /pgbranch-test\/does-not-exist:1 is not present and could not be pulled/,
      );
    });

    it('reaps the containers and branch snapshot images of a process killed with SIGKILL', async () => {
      const { child, done } = runScript('hold-docker-branches.mjs', [cacheDir, TEST_IMAGE, storage, '2', RECIPE], { untilLine: (l) => l.ready === true });
      const held = (await done) as { session: string; containers: string[]; child: string };
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      expect(containersOf(cacheDir, held.session)).toHaveLength(2);
      expect(leftovers(held.session)).toHaveLength(1);
      const output = cli(['gc', '--cache-dir', cacheDir]);
      expect(output).toMatch(/stopped 2 servers/);
      expect(containersOf(cacheDir, held.session)).toEqual([]);
      expect(leftovers(held.session)).toEqual([]);
      // Our own engine's branches are untouched.
      await using mine = await snap.branch();
      expect(await query(mine.url, 'select 1 as ok')).toEqual([{ ok: 1 }]);
      expect(held.containers).toHaveLength(2);
    });
  });
}
