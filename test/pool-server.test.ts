
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PoolClient } from '@pgbranch/core/client';
import { PoolServer } from '@pgbranch/core/server';
import { query } from './support/pg.js';
import { cli, freshCacheDir, postgresProcessesUnder, repoRoot } from './support/processes.js';
import { waitUntil } from './support/wait.js';

const RECIPE = path.join(repoRoot, 'fixtures/recipes/photo-catalog');

describe('pool server', () => {
  const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'pool-server');
  let server: PoolServer;

  beforeAll(async () => {
    await freshCacheDir(cacheDir);
    server = await PoolServer.start({ engine: { cacheDir }, recipes: { photos: { name: 'photos', sql: [RECIPE] } }, pool: { warm: 2, max: 6 } });
    await server.whenWarm();
  });
  afterAll(async () => {
    await server.close();
    expect(postgresProcessesUnder(cacheDir)).toEqual([]);
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('leases isolated branches to clients over a unix socket', async () => {
    expect(server.address).toMatch(/^unix:/);
    await using a = await PoolClient.connect(server.address, server.token);
    await using b = await PoolClient.connect(server.address, server.token);
    const [la, lb] = await Promise.all([a.acquire('photos'), b.acquire('photos')]);
    expect(la.url).not.toBe(lb.url);
    expect(la.host).toBe('127.0.0.1');
    await query(la.url, 'delete from photos');
    expect(await query(lb.url, 'select count(*)::int as n from photos')).toEqual([{ n: 10000 }]);
    await a.release(la.leaseId);
    await a.release(la.leaseId); // late or repeated: harmless
    await b.release(lb.leaseId);
  });

  it('reclaims the branches of a worker whose connection drops', async () => {
    const client = await PoolClient.connect(server.address, server.token);
    const lease = await client.acquire('photos');
    const leasedBefore = server.stats().pools.photos!.leased;
    expect(leasedBefore).toBeGreaterThanOrEqual(1);
    await client.close(); // what a crashed worker's socket does
    await waitUntil(() => server.stats().pools.photos!.leased === leasedBefore - 1);
    await expect(query(lease.url, 'select 1')).rejects.toThrow();
  });

  it('resets and snapshots a leased branch for the worker', async () => {
    await using client = await PoolClient.connect(server.address, server.token);
    const lease = await client.acquire('photos');
    await query(lease.url, 'delete from photos where id > 10');
    const child = await client.snapshot(lease.leaseId, 'ten-photos');
    await client.reset(lease.leaseId);
    expect(await query(lease.url, 'select count(*)::int as n from photos')).toEqual([{ n: 10000 }]);
    const fromChild = await client.acquire(child.key);
    expect(await query(fromChild.url, 'select count(*)::int as n from photos')).toEqual([{ n: 10 }]);
  });

  it('names unknown recipes and unknown leases in errors', async () => {
    await using client = await PoolClient.connect(server.address, server.token);
    await expect(client.acquire('nope')).rejects.toThrow(/No snapshot "nope".*known: photos/);
    await expect(client.reset('missing')).rejects.toThrow(/Lease missing is not held/);
  });

  it('keeps a branch past close on request as a named branch: gc leaves it, rm removes it', async () => {
    const dir = path.join(os.tmpdir(), 'pgbranch-test', 'pool-server-keep');
    await freshCacheDir(dir);
    const own = await PoolServer.start({ engine: { cacheDir: dir }, recipes: { photos: { name: 'photos', sql: [RECIPE] } }, pool: { warm: 1 } });
    const client = await PoolClient.connect(own.address, own.token);
    const lease = await client.acquire('photos');
    const kept = await client.keep(lease.leaseId, 'test/failing.test.ts failed');
    expect(kept).toMatchObject({ reason: 'test/failing.test.ts failed', redactedUrl: `postgresql://postgres@127.0.0.1:${lease.port}/postgres` });
    expect(JSON.stringify(kept)).not.toContain(lease.password);
    await client.close();
    await own.close();
    // A named branch has a password of its own: the lease's URL no longer opens it, `pgbranch url` does.
    await expect(query(lease.url, 'select 1')).rejects.toThrow(/password authentication failed/);
    const url = cli(['url', kept.branch, '--cache-dir', dir]).trim();
    expect(await query(url, 'select count(*)::int as n from photos')).toEqual([{ n: 10000 }]);
    expect(postgresProcessesUnder(dir)).toHaveLength(1);
    expect(cli(['gc', '--cache-dir', dir])).not.toContain(kept.branch);
    expect(postgresProcessesUnder(dir)).toHaveLength(1);
    expect(cli(['rm', kept.branch, '--cache-dir', dir])).toContain(`removed ${kept.branch}`);
    expect(postgresProcessesUnder(dir)).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  });
});
