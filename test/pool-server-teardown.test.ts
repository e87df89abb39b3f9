import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PoolClient } from '@pgbranch/core/client';
import { PoolServer } from '@pgbranch/core/server';
import { freshCacheDir, postgresProcessesUnder, repoRoot } from './support/processes.js';

const RECIPE = path.join(repoRoot, 'fixtures/recipes/photo-catalog');

describe('pool server: graceful release', () => {
  const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'pool-server-teardown');
  let server: PoolServer;

  beforeAll(async () => {
    await freshCacheDir(cacheDir);
    server = await PoolServer.start({ engine: { cacheDir }, recipes: { photos: { name: 'photos', sql: [RECIPE] } }, pool: { warm: 1, max: 4 }, teardownTimeout: 1500 });
    await server.whenWarm();
  });
  afterAll(async () => {
    await server.close();
    expect(postgresProcessesUnder(cacheDir)).toEqual([]);
    await freshCacheDir(cacheDir);
  });

  it('lets a query still running at release finish before the branch is destroyed', async () => {
    await using client = await PoolClient.connect(server.address, server.token);
    const lease = await client.acquire('photos');
    const late = new pg.Client({ connectionString: lease.url });
    await late.connect();
    // Unawaited cleanup, as in afterAll(() => { db.query(...); db.end(); }).
    const cleanup = late.query('select pg_sleep(0.4)').then(() => late.query('delete from photos')).then((r) => r.rowCount);
    void cleanup.finally(() => late.end());
    const released = await client.release(lease.leaseId);
    expect(await cleanup).toBe(10000);
    expect(released.lingering).toBe(0);
    expect(released.waitedMs).toBeGreaterThan(0);
  });

  it('ends a connection that never closes once teardownTimeout has passed, and destroys the branch', async () => {
    await using client = await PoolClient.connect(server.address, server.token);
    const lease = await client.acquire('photos');
    const stays = new pg.Client({ connectionString: lease.url });
    const ended = new Promise<Error>((resolve) => stays.on('error', resolve));
    await stays.connect();
    const released = await client.release(lease.leaseId);
    expect(released.lingering).toBe(1);
    expect((await ended).message).toMatch(/terminat/i);
    await expect(pg.Client.prototype.connect.call(new pg.Client({ connectionString: lease.url, connectionTimeoutMillis: 2000 }))).rejects.toThrow();
  });

  it('does not wait for a worker whose connection dropped (its connections went with it)', async () => {
    const client = await PoolClient.connect(server.address, server.token);
    const lease = await client.acquire('photos');
    const open = new pg.Client({ connectionString: lease.url });
    open.on('error', () => undefined);
    await open.connect(); // would hold a graceful release for the whole teardownTimeout
    const leasedBefore = server.stats().pools.photos!.leased;
    await client.close();
    const deadline = Date.now() + 1000; // well under teardownTimeout
    while (server.stats().pools.photos!.leased !== leasedBefore - 1) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 10));
    }
    await open.end().catch(() => undefined);
  });
});
