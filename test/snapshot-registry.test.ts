import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createEngine, type Engine, type EngineOptions, type Snapshot } from '@pgbranch/core';
import { dockerUnavailable, TEST_IMAGE } from './support/docker.js';
import { query } from './support/pg.js';
import { cli, freshCacheDir, repoRoot } from './support/processes.js';
import { authRegistry, dockerB as dockerBTarget, registry as registryTarget, requireAll } from './support/targets.js';
import { runRunner, summaryPattern } from './support/runner.js';

// A snapshot registry shared by two "machines": cache directories that share nothing but the registry (and, for the
// docker driver, two Docker engines: the default one and PGBRANCH_TEST_DOCKER_B).
const RECIPE = { name: 'relay-store', sql: [path.join(repoRoot, 'fixtures/recipes/relay-store')] };
const openRegistry = registryTarget();
const locked = authRegistry();
const engineB = dockerBTarget();
const registry = openRegistry.address;
const dockerB = engineB.address;
const unavailable = dockerUnavailable() ?? openRegistry.unavailable ?? locked.unavailable;
const root = path.join(os.tmpdir(), 'pgbranch-test', 'registry');
const machineA = path.join(root, 'a');
const machineB = path.join(root, 'b');
const count = 'select count(*)::int as n from relay.requests';

/** The rows of the fixture's table, read over a new branch's URL (with its engine's password). */
async function countIn(snap: Snapshot): Promise<unknown> {
  const branch = await snap.branch();
  try {
    const rows = await query(branch.url, count);
    expect(rows).toEqual([{ n: expect.any(Number) }]);
    return rows;
  } finally {
    await branch.destroy();
  }
}

/** A repository of its own per test, so runs never see each other's pushes. */
const repository = (): string => `${registry}/pgbranch-test/r${randomBytes(4).toString('hex')}`;

if (unavailable && !requireAll()) {
  describe.skip(`snapshot registry (skipped: ${unavailable})`, () => it('needs a registry and Docker', () => undefined));
} else {
  describe('snapshot registry', () => {
    const engines: Engine[] = [];
    let warnings: string[];
    const open = async (options: EngineOptions): Promise<Engine> => {
      const engine = await createEngine(options);
      engines.push(engine);
      return engine;
    };

    beforeEach(async () => {
      if (unavailable) throw new Error(`PGBRANCH_TEST_REQUIRE=all but ${unavailable}`);
      await freshCacheDir(machineA);
      await freshCacheDir(machineB);
      warnings = [];
      const write = process.stderr.write.bind(process.stderr);
      vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
        if (String(chunk).startsWith('pgbranch: warning:')) warnings.push(String(chunk));
        return write(chunk, ...(rest as []));
      });
    });
    afterEach(async () => {
      vi.restoreAllMocks();
      for (const engine of engines.splice(0)) await engine.close();
    });
    afterAll(async () => {
      await freshCacheDir(machineA);
      if (dockerB) cli(['gc', '--cache-dir', machineB, '--keep', '0'], { DOCKER_HOST: dockerB }); // machine B's images
      await freshCacheDir(machineB);
    });

    it('local driver: the first machine seeds and pushes, the next pulls instead of seeding, then finds it in its cache', async () => {
      const repo = repository();
      const a = await open({ cacheDir: machineA, driver: 'local', registry: repo });
      const seeded = await a.snapshot(RECIPE);
      expect(seeded.origin).toBe('built');
      const rows = await countIn(seeded);
      await a.close(); // waits for the push

      const b = await open({ cacheDir: machineB, driver: 'local', registry: repo });
      const pulled = await b.snapshot(RECIPE);
      expect(pulled.origin).toBe('registry');
      expect(pulled.hash).toBe(seeded.hash);
      // A branch answers with machine B's password (the data came with machine A's).
      expect(await countIn(pulled)).toEqual(rows);
      // No base cluster was made on B: the recipe came whole.
      expect((await b.storedSnapshots()).map((s) => s.kind)).toEqual(['recipe']);
      await b.close();

      const again = await open({ cacheDir: machineB, driver: 'local', registry: repo });
      expect((await again.snapshot(RECIPE)).origin).toBe('cache');
      expect(warnings.join(""), "warnings").toBe("");
    });

    it('a registry that is down: a warning naming it, and the snapshot is seeded here', async () => {
      const engine = await open({ cacheDir: machineA, driver: 'local', registry: '127.0.0.1:9/pgbranch-test/down' });
      const snap = await engine.snapshot(RECIPE);
      expect(snap.origin).toBe('built');
      expect(warnings.join('')).toMatch(/127\.0\.0\.1:9\/pgbranch-test\/down:[0-9a-f]+-archive: the registry is not reachable .*Seeding snapshot "relay-store" here instead/);
      await engine.close();
      expect(warnings).toHaveLength(1); // not tried again for the push
    });

    it('a registry that accepts connections and never answers: stopped after the idle timeout, a warning, seeded here', async () => {
      const silent = net.createServer((socket) => socket.on('error', () => undefined)); // accepts, reads, never answers
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      try {
        const port = (silent.address() as net.AddressInfo).port;
        const engine = await open({ cacheDir: machineA, driver: 'local', registry: { repository: `127.0.0.1:${port}/pgbranch-test/silent`, idleTimeoutMs: 3000 } });
        expect((await engine.snapshot(RECIPE)).origin).toBe('built');
        await engine.close();
        expect(warnings.join('')).toMatch(/looking up 127\.0\.0\.1:\d+\/pgbranch-test\/silent:[0-9a-f]+-archive made no progress and was stopped.*Seeding snapshot "relay-store" here instead/);
        expect(warnings).toHaveLength(1);
      } finally {
        silent.close();
      }
    });

    it('a registry that answers 401: a warning that says to log in and the snapshot seeded here; after `docker login` it serves', async () => {
      const config = await mkdtemp(path.join(os.tmpdir(), 'pgbranch-docker-config-'));
      const saved = process.env.DOCKER_CONFIG;
      process.env.DOCKER_CONFIG = config; // the Docker CLI's credentials: none yet
      try {
        const repo = `${locked.address}/pgbranch-test/r${randomBytes(4).toString('hex')}`;
        const engine = await open({ cacheDir: machineA, driver: 'local', registry: repo });
        expect((await engine.snapshot(RECIPE)).origin).toBe('built');
        await engine.close();
        const text = warnings.join('');
        expect(text).toMatch(/looking up .* was refused .*docker login 127\.0\.0\.1:\d+.*Seeding snapshot "relay-store" here instead/);
        expect(text).toMatch(/pushing .* was refused .*Other machines will seed snapshot "relay-store" themselves/);

        const login = spawnSync('docker', ['login', '-u', locked.user, '--password-stdin', locked.address], { input: locked.password, encoding: 'utf8' });
        expect(login.status, login.stderr).toBe(0);
        warnings.length = 0;
        await freshCacheDir(machineA);
        const a = await open({ cacheDir: machineA, driver: 'local', registry: repo });
        expect((await a.snapshot(RECIPE)).origin).toBe('built');
        await a.close();
        const b = await open({ cacheDir: machineB, driver: 'local', registry: repo });
        expect((await b.snapshot(RECIPE)).origin).toBe('registry');
        expect(warnings.join(""), "warnings").toBe("");
      } finally {
        if (saved === undefined) delete process.env.DOCKER_CONFIG;
        else process.env.DOCKER_CONFIG = saved;
        await rm(config, { recursive: true, force: true });
      }
    });

    describe.skipIf(Boolean(engineB.unavailable) && !requireAll())(`docker driver on two engines${engineB.unavailable ? ` (skipped: ${engineB.unavailable})` : ''}`, () => {
      it('engine A seeds and pushes the snapshot image, engine B pulls it and branches without seeding', async () => {
        if (engineB.unavailable) throw new Error(`PGBRANCH_TEST_REQUIRE=all but ${engineB.unavailable}`);
        const repo = repository();
        const docker = { image: TEST_IMAGE, network: 'host' as const, storage: 'image' as const };
        const a = await open({ cacheDir: machineA, driver: 'docker', docker, registry: repo });
        const seeded = await a.snapshot(RECIPE);
        expect(seeded.origin).toBe('built');
        const rows = await countIn(seeded);
        await a.close();

        const b = await open({ cacheDir: machineB, driver: 'docker', docker: { ...docker, dockerHost: dockerB }, registry: repo });
        const pulled = await b.snapshot(RECIPE);
        expect(pulled.origin).toBe('registry');
        expect(pulled.hash).toBe(seeded.hash);
        expect(await countIn(pulled)).toEqual(rows);
        expect(warnings.join(""), "warnings").toBe("");
      });

      it('a vitest suite sharded over the two machines: shard 1/2 seeds and pushes, shard 2/2 pulls', async () => {
        if (engineB.unavailable) throw new Error(`PGBRANCH_TEST_REQUIRE=all but ${engineB.unavailable}`);
        const env = { PGBRANCH_REGISTRY: repository(), PGBRANCH_DRIVER: 'docker', PGBRANCH_DOCKER_IMAGE: TEST_IMAGE, PGBRANCH_DOCKER_NETWORK: 'host', PGBRANCH_DOCKER_STORAGE: 'image' };
        const one = await runRunner('vitest-app', 'vitest', ['--shard=1/2'], { ...env, PGBRANCH_CACHE_DIR: machineA }, path.join(root, 'shard-1.json'));
        const two = await runRunner('vitest-app', 'vitest', ['--shard=2/2'], { ...env, PGBRANCH_CACHE_DIR: machineB, DOCKER_HOST: dockerB }, path.join(root, 'shard-2.json'));
        expect(one.code, one.output).toBe(0);
        expect(two.code, two.output).toBe(0);
        expect(one.report.testResults.length + two.report.testResults.length).toBe(11);
        const summary = summaryPattern('sync-store');
        expect(summary.exec(one.output)?.[3], one.output).toBe('built');
        expect(summary.exec(two.output)?.[3], two.output).toBe('pulled from the registry');
        console.log(`${summary.exec(one.output)![0]}\n${summary.exec(two.output)![0]}`);
      });
    });
  });
}
