import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type NamedBranches, type Snapshot } from '@pgbranch/core';
import { containersOf, dockerUnavailable, TEST_IMAGE } from './support/docker.js';
import { query } from './support/pg.js';
import { freshCacheDir } from './support/processes.js';
import { requireAll } from './support/targets.js';

const unavailable = dockerUnavailable();
const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'docker-image-named');
const options = { cacheDir, driver: 'docker' as const, docker: { image: TEST_IMAGE, network: 'host' as const, storage: 'image' as const } };

if (unavailable && !requireAll()) {
  describe.skip(`named branches on Docker with image storage (skipped: ${unavailable})`, () => it('needs Docker', () => undefined));
} else {
  describe('named branches on Docker with image storage', () => {
    let engine: Engine;
    let snap: Snapshot;
    let named: NamedBranches;

    beforeAll(async () => {
      if (unavailable) throw new Error(`PGBRANCH_TEST_REQUIRE=all but ${unavailable}`);
      await freshCacheDir(cacheDir);
      engine = await createEngine(options);
      snap = await engine.snapshot({ name: 'small', hashInputs: [], init: (url) => query(url, 'create table marks as select 3 as n').then(() => undefined) });
      named = engine.named();
    });
    afterAll(async () => {
      for (const b of (await named?.list()) ?? []) await named.destroy(b.name);
      await engine?.close();
      expect(containersOf(cacheDir)).toEqual([]);
      await freshCacheDir(cacheDir);
    });

    it('branches a branch that was made and never started (it has no container yet): the child has its data', async () => {
      const parent = await named.create('never-started', snap, { start: false });
      expect(parent.state).toBe('suspended');
      expect(containersOf(cacheDir)).toEqual([]);
      const child = await named.create('child-of-never-started', 'never-started');
      expect(await query(named.url(child), 'select n from marks')).toEqual([{ n: 3 }]);
      expect(containersOf(cacheDir)).toHaveLength(1);
    });
  });
}
