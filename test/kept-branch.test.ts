import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createEngine, type ClonerName } from '@pgbranch/core';
import { PoolClient } from '@pgbranch/core/client';
import { PoolServer } from '@pgbranch/core/server';
import { containersOf, dockerUnavailable, TEST_IMAGE } from './support/docker.js';
import { query } from './support/pg.js';
import { cli, freshCacheDir, mountsUnder, postgresProcessesUnder, repoRoot } from './support/processes.js';
import { expectNothingLeft, runRunner } from './support/runner.js';
import { clonerTarget, requireAll } from './support/targets.js';

const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'kept-branch');
const reportFile = path.join(os.tmpdir(), 'pgbranch-test', 'kept-branch-report.json');

interface Listed {
  name: string;
  state: string;
  port: number;
  labels: Record<string, string>;
  expiresAt?: string;
}

describe('keepOnFailure: a failed file’s branch becomes a named branch (real vitest CLI, then the pgbranch CLI)', () => {
  beforeAll(() => freshCacheDir(cacheDir));
  afterAll(() => freshCacheDir(cacheDir));

  it('is listed by a new process, keeps the rows the test wrote, survives gc and is removed by rm', async () => {
    const { code, output } = await runRunner('vitest-app', 'vitest', [], { PGBRANCH_CACHE_DIR: cacheDir, EXAMPLE_FAIL: '1' }, reportFile);
    expect(code, output).not.toBe(0);
    expect(output).not.toContain(readFileSync(path.join(cacheDir, 'secret'), 'utf8').trim());
    const line = /pgbranch: kept branch (failed-failing-[0-9a-f]{6}) \(.*failing\.test\.ts\): postgresql:\/\/postgres@127\.0\.0\.1:(\d+)\/postgres .*/.exec(output);
    expect(line, output).not.toBeNull();
    const [printed, name, port] = line!;
    expect(printed).toContain(`pgbranch url ${name} --cache-dir ${cacheDir}`);
    expect(printed).toContain(`pgbranch rm ${name} --cache-dir ${cacheDir}`);

    // Any pgbranch command reaps the run's dead session; the kept branch is not part of it.
    const listed = JSON.parse(cli(['ls', '--json', '--cache-dir', cacheDir])) as Listed[];
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ name, state: expect.stringMatching(/running|idle/), port: Number(port), labels: { kept: 'vitest', file: 'test/failing.test.ts' } });
    const ttlHours = (Date.parse(listed[0]!.expiresAt!) - Date.now()) / 3_600_000;
    expect(ttlHours).toBeGreaterThan(23);
    expect(ttlHours).toBeLessThanOrEqual(24);
    expect(readdirSync(path.join(cacheDir, 'branches'))).toEqual([]);

    const url = cli(['url', name!, '--cache-dir', cacheDir]).trim();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query('select name from documents where workspace_id = 4242');
    await client.end();
    expect(rows).toEqual([{ name: 'kept-row' }]);

    const gc = cli(['gc', '--cache-dir', cacheDir]);
    expect(gc).not.toContain(name);
    expect(postgresProcessesUnder(cacheDir)).toHaveLength(1);
    expect((JSON.parse(cli(['ls', '--json', '--cache-dir', cacheDir])) as Listed[]).map((b) => b.name)).toEqual([name]);

    expect(cli(['rm', name!, '--cache-dir', cacheDir])).toContain(`removed ${name}`);
    expect(JSON.parse(cli(['ls', '--json', '--cache-dir', cacheDir]))).toEqual([]);
    expect(existsSync(path.join(cacheDir, 'named', name!))).toBe(false);
    expectNothingLeft(cacheDir);
  });
});

describe('keepOnFailure with the docker driver: the kept container’s state becomes a named branch', () => {
  const dockerCache = path.join(os.tmpdir(), 'pgbranch-test', 'kept-branch-docker');
  const docker = { image: TEST_IMAGE, network: 'host' as const, storage: 'image' as const };
  beforeAll(() => freshCacheDir(dockerCache));
  afterAll(() => freshCacheDir(dockerCache));

  it('keeps it past the run and reaping, with its rows, until rm (which also removes its image)', async (ctx) => {
    const unavailable = dockerUnavailable();
    if (unavailable && !requireAll()) ctx.skip();
    expect(unavailable).toBeUndefined();
    const server = await PoolServer.start({
      engine: { cacheDir: dockerCache, driver: 'docker', docker },
      recipes: { default: { name: 'relay', sql: [path.join(repoRoot, 'fixtures/recipes/relay-store')] } },
      pool: { warm: 1 },
    });
    const client = await PoolClient.connect(server.address, server.token);
    const lease = await client.acquire('default', '/somewhere/test/orders.spec.ts');
    await query(lease.url, "create table kept_rows (v text); insert into kept_rows values ('from the failed test')");
    const kept = await client.keep(lease.leaseId, '/somewhere/test/orders.spec.ts > refunds twice');
    expect(kept.branch).toMatch(/^failed-orders-[0-9a-f]{6}$/);
    await client.close();
    await server.close();

    cli(['gc', '--cache-dir', dockerCache]);
    const listed = JSON.parse(cli(['ls', '--json', '--driver', 'docker', '--cache-dir', dockerCache], { PGBRANCH_DOCKER_IMAGE: TEST_IMAGE, PGBRANCH_DOCKER_NETWORK: 'host' })) as Listed[];
    expect(listed.map((b) => b.name)).toEqual([kept.branch]);
    const url = cli(['url', kept.branch, '--cache-dir', dockerCache]).trim();
    expect(await query(url, 'select v from kept_rows')).toEqual([{ v: 'from the failed test' }]);
    const hash = (JSON.parse(readFileSync(path.join(dockerCache, 'named', kept.branch, 'branch.json'), 'utf8')) as { snapshot: { hash: string } }).snapshot.hash;

    cli(['rm', kept.branch, '--cache-dir', dockerCache]);
    expect(containersOf(dockerCache)).toEqual([]);
    expect(execFileSync('docker', ['images', '-q', '--filter', `label=org.pgbranch.hash=${hash}`], { encoding: 'utf8' }).trim()).toBe('');
  });
});

describe('adopting a branch into a named branch moves its data whatever the cloner', () => {
  for (const cloner of ['copy', 'overlay', 'reflink', 'btrfs'] as ClonerName[]) {
    const target = clonerTarget(cloner);
    it(`${cloner}: same port, same rows, the engine branch gone, and a clean removal`, async (ctx) => {
      if (target.unavailable && !requireAll()) ctx.skip();
      expect(target.unavailable).toBeUndefined();
      const dir = target.cacheDir('kept-adopt');
      await freshCacheDir(dir);
      const engine = await createEngine({ cacheDir: dir, cloner });
      try {
        const snap = await engine.snapshot({ name: 'relay', sql: [path.join(repoRoot, 'fixtures/recipes/relay-store')] });
        const branch = await snap.branch();
        await query(branch.url, 'create table kept_rows (v int); insert into kept_rows values (42)');
        const engineDir = branch.dir!;
        const port = branch.port;
        const named = engine.named();
        const info = await named.adopt('adopted', branch, { labels: { kept: 'test' } });
        expect(info).toMatchObject({ name: 'adopted', port, state: 'running', labels: { kept: 'test' } });
        expect(branch.isDestroyed).toBe(true);
        expect(existsSync(engineDir)).toBe(false);
        expect(await query(named.url(info), 'select v from kept_rows')).toEqual([{ v: 42 }]);
        expect(postgresProcessesUnder(dir)).toHaveLength(1);
        await named.destroy('adopted');
        expect(postgresProcessesUnder(dir)).toEqual([]);
        expect(mountsUnder(dir)).toEqual([]);
      } finally {
        await engine.close();
        await freshCacheDir(dir);
      }
    });
  }
});
