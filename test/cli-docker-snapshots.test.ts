import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '@pgbranch/core';
import { containersOf, dockerUnavailable, TEST_IMAGE } from './support/docker.js';
import { query } from './support/pg.js';
import { cli, freshCacheDir } from './support/processes.js';
import { requireAll } from './support/targets.js';

const unavailable = dockerUnavailable();
const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'cli-docker-snapshots');
// The CLI takes the Docker settings from the environment, as a user's shell would give them.
const env = { PGBRANCH_DOCKER_IMAGE: TEST_IMAGE, PGBRANCH_DOCKER_NETWORK: 'host', PGBRANCH_DOCKER_STORAGE: 'image' };

if (unavailable && !requireAll()) {
  describe.skip(`the CLI with the docker driver's image storage (skipped: ${unavailable})`, () => it('needs Docker', () => undefined));
} else {
  describe("the CLI with the docker driver's image storage", () => {
    let engine: Engine;

    beforeAll(async () => {
      if (unavailable) throw new Error(`PGBRANCH_TEST_REQUIRE=all but ${unavailable}`);
      await freshCacheDir(cacheDir);
      engine = await createEngine({ cacheDir, driver: 'docker', docker: { image: TEST_IMAGE, network: 'host', storage: 'image' } });
      await engine.snapshot({ name: 'marks', hashInputs: [], init: (url) => query(url, 'create table marks as select 7 as n').then(() => undefined) });
    });
    afterAll(async () => {
      await engine?.close();
      await freshCacheDir(cacheDir);
      expect(containersOf(cacheDir)).toEqual([]);
    });

    it('finds a snapshot stored as an image by its name, and branches it', async () => {
      const created = JSON.parse(cli(['create', 'from-image', '--from', 'marks', '--driver', 'docker', '--cache-dir', cacheDir, '--json'], env)) as { state: string; driver: string };
      expect(created).toMatchObject({ state: 'running', driver: 'docker' });
      const url = cli(['url', 'from-image', '--cache-dir', cacheDir], env).trim();
      expect(await query(url, 'select n from marks')).toEqual([{ n: 7 }]);
      cli(['rm', 'from-image', '--cache-dir', cacheDir], env);
      expect(containersOf(cacheDir)).toEqual([]);
    });
  });
}
