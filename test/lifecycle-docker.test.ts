import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, Keeper, type Engine, type KeeperEvent, type NamedBranches, type Snapshot } from '@pgbranch/core';
import { containersOf, containerState, dockerUnavailable, TEST_IMAGE } from './support/docker.js';
import { query } from './support/pg.js';
import { cli, freshCacheDir, repoRoot, runScript } from './support/processes.js';
import { requireAll } from './support/targets.js';

const RECIPE = path.join(repoRoot, 'fixtures/recipes/relay-store');
const unavailable = dockerUnavailable();
const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'lifecycle-docker');
const options = { cacheDir, driver: 'docker' as const, docker: { image: TEST_IMAGE, network: 'host' as const, storage: 'image' as const } };

if (unavailable && !requireAll()) {
  describe.skip(`named branches on Docker (skipped: ${unavailable})`, () => it('needs Docker', () => undefined));
} else {
  describe('named branches on Docker', () => {
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

    it('keeps a container branch through suspend, resume, branching and reset', async () => {
      const info = await named.create('dock-a', snap);
      const url = named.url(info);
      await query(url, 'delete from relay.requests where id % 2 = 0');
      const suspended = await named.suspend('dock-a');
      expect(suspended.state).toBe('suspended');
      expect(containersOf(cacheDir).map(containerState)).toEqual(['exited']);
      await engine.close();
      engine = await createEngine(options); // another process in real life
      named = engine.named();
      expect((await named.resume('dock-a')).port).toBe(info.port);
      expect(await query(url, 'select count(*)::int as n from relay.requests')).toEqual([{ n: 20000 }]);

      const child = await named.create('dock-b', 'dock-a');
      await query(named.url(child), 'delete from relay.requests');
      expect(await query(url, 'select count(*)::int as n from relay.requests')).toEqual([{ n: 20000 }]);
      await named.reset('dock-b');
      expect(await query(named.url(child), 'select count(*)::int as n from relay.requests')).toEqual([{ n: 20000 }]);
      const dockerEnv = { PGBRANCH_DOCKER_IMAGE: TEST_IMAGE, PGBRANCH_DOCKER_NETWORK: 'host', PGBRANCH_DOCKER_STORAGE: 'image' };
      expect(cli(['ls', '--driver', 'docker', '--cache-dir', cacheDir], dockerEnv)).toMatch(/dock-b\s+running\s+dock-a \(branch\)/);
      // Commands on a branch reopen it with the settings it was made with.
      expect(cli(['suspend', 'dock-b', '--cache-dir', cacheDir])).toMatch(/dock-b: suspended/);
      expect(() => cli(['url', 'dock-a', '--driver', 'local', '--cache-dir', cacheDir], { PGBRANCH_QUIET: '1' })).toThrow(/runs on the docker driver/);
      await named.destroy('dock-b');
    });

    it('wakes a suspended container branch when a client connects', async () => {
      const info = await named.create('dock-w', snap);
      const events: KeeperEvent[] = [];
      const keeper = new Keeper(engine, { intervalMs: 100, suspendAfterMs: 300, onEvent: (e) => events.push(e) });
      await keeper.start();
      try {
        const held = () => events.some((e) => e.branch === 'dock-w' && e.action === 'holding');
        for (let i = 0; i < 100 && !held(); i++) await new Promise((r) => setTimeout(r, 100));
        expect(held()).toBe(true);
        expect(await query(named.url(info), 'select count(*)::int as n from relay.requests')).toEqual([{ n: 40000 }]);
        expect(events).toContainEqual(expect.objectContaining({ branch: 'dock-w', action: 'woke' }));
      } finally {
        await keeper.close();
      }
      await named.destroy('dock-w');
    });

    it('survives SIGKILL at random points: gc leaves only the containers of named branches', async () => {
      for (let i = 0; i < 8; i++) {
        const workload = runScript('lifecycle-workload.mjs', [cacheDir, String(2000 + i), RECIPE], { untilLine: (l) => l.ready === true, env: { PGBRANCH_TEST_DRIVER: 'docker' } });
        await workload.done;
        await new Promise((r) => setTimeout(r, 300 + ((i * 7919) % 1500)));
        workload.child.kill('SIGKILL');
        await new Promise((r) => workload.child.once('exit', r));
        cli(['gc', '--cache-dir', cacheDir]);
        const survivors = await named.list();
        expect(survivors.filter((b) => b.state === 'broken' || b.state === 'creating')).toEqual([]);
        // Every container left is a surviving named branch's (none of the dead process's test branches or
        // half-made ones); a branch whose reset was interrupted has none until it resumes.
        const owned = survivors.map((b) => b.containerId ?? '');
        for (const id of containersOf(cacheDir)) expect(owned.some((c) => c.startsWith(id))).toBe(true);
        expect(readdirSync(path.join(cacheDir, 'sessions')).filter((f) => f.endsWith('.json')).length).toBe(1); // this test's engine
        for (const b of survivors) {
          const info = await named.resume(b.name);
          expect(await query(named.url(info), 'select 1 as one')).toEqual([{ one: 1 }]);
        }
      }
    });
  });
}
