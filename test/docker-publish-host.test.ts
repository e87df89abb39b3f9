import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '@pgbranch/core';
import { containersOf, dockerUnavailable, TEST_IMAGE } from './support/docker.js';
import { query } from './support/pg.js';
import { freshCacheDir } from './support/processes.js';
import { requireAll } from './support/targets.js';

const unavailable = dockerUnavailable();
const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'docker-publish-host');
// 'localhost' names the same loopback address as the default 127.0.0.1, so the servers are reachable at it; every
// URL showing it proves the option reached that place.
const options = { cacheDir, driver: 'docker' as const, docker: { image: TEST_IMAGE, network: 'host' as const, storage: 'image' as const, publishHost: 'localhost' } };

if (unavailable && !requireAll()) {
  describe.skip(`docker.publishHost (skipped: ${unavailable})`, () => it('needs Docker', () => undefined));
} else {
  describe('docker.publishHost: where the engine publishes ports', () => {
    let engine: Engine;

    beforeAll(async () => {
      if (unavailable) throw new Error(`PGBRANCH_TEST_REQUIRE=all but ${unavailable}`);
      await freshCacheDir(cacheDir);
      engine = await createEngine(options);
    });
    afterAll(async () => {
      for (const b of (await engine?.named().list()) ?? []) await engine.named().destroy(b.name);
      await engine?.close();
      expect(containersOf(cacheDir)).toEqual([]);
      await freshCacheDir(cacheDir);
    });

    it("is the host of init()'s URL, of branch URLs and of named branch URLs", async () => {
      const initHosts: string[] = [];
      const snap = await engine.snapshot({
        name: 'published',
        hashInputs: [],
        init: async (url) => {
          initHosts.push(new URL(url).hostname);
          await query(url, 'create table seeded as select 7 as n');
        },
      });
      expect(initHosts).toEqual(['localhost']);

      await using branch = await snap.branch();
      expect(new URL(branch.url).hostname).toBe('localhost');
      expect(await query(branch.url, 'select n from seeded')).toEqual([{ n: 7 }]);

      const named = engine.named();
      const info = await named.create('published-a', snap);
      const url = named.url(info);
      expect(new URL(url).hostname).toBe('localhost');
      expect(await query(url, 'select n from seeded')).toEqual([{ n: 7 }]);
    });
  });
}
