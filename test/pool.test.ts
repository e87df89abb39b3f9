import { rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, PgbranchError, UsageError, type Engine, type Lease, type Pool, type Snapshot } from '@pgbranch/core';
import { query } from './support/pg.js';
import { freshCacheDir, postgresProcessesUnder } from './support/processes.js';

describe('warm pool', () => {
  const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'pool');
  let engine: Engine;
  let snap: Snapshot;

  beforeAll(async () => {
    await freshCacheDir(cacheDir);
    engine = await createEngine({ cacheDir });
    snap = await engine.snapshot({ name: 'pool-base', sql: [] });
  });
  afterAll(async () => {
    await engine.close();
    expect(postgresProcessesUnder(cacheDir)).toEqual([]);
    await rm(cacheDir, { recursive: true, force: true });
  });

  /** Samples the pool's counters every millisecond while `fn` runs; returns the most servers alive at once. */
  async function peakAlive(pool: Pool, fn: () => Promise<void>): Promise<number> {
    let peak = 0;
    const timer = setInterval(() => {
      const s = pool.stats();
      peak = Math.max(peak, s.ready + s.leased + s.starting + s.destroying);
    }, 1);
    try {
      await fn();
    } finally {
      clearInterval(timer);
    }
    return peak;
  }

  it('keeps warm branches ready and hands one over without starting a server', async () => {
    await using pool = engine.pool(snap, { warm: 2, max: 4 });
    await pool.whenWarm();
    expect(pool.stats()).toMatchObject({ ready: 2, leased: 0, starting: 0 });
    const created = pool.stats().created;
    await using lease = await pool.acquire();
    expect(pool.stats().created).toBe(created); // handed over, not created on demand
    expect(await query(lease.url, 'select 1 as ok')).toEqual([{ ok: 1 }]);
    expect(pool.stats().acquireMs.count).toBe(1);
  });

  it('serves waiters first come, first served, never above max, never one branch twice', async () => {
    await using pool = engine.pool(snap, { warm: 0, max: 2, concurrency: 2 });
    const order: number[] = [];
    const leases: Lease[] = [];
    const peak = await peakAlive(pool, async () => {
      const pending = Array.from({ length: 6 }, (_, i) =>
        pool.acquire().then(async (lease) => {
          order.push(i);
          leases.push(lease);
          await query(lease.url, 'create table mine (x int)'); // would fail if a branch were shared
          await new Promise((r) => setTimeout(r, 20));
          await lease.release();
        }),
      );
      await Promise.all(pending);
    });
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(peak).toBeLessThanOrEqual(2);
    expect(new Set(leases.map((l) => l.branch.id)).size).toBe(6);
  });

  it('rejects a second release clearly and leaves the pool working', async () => {
    await using pool = engine.pool(snap, { warm: 1 });
    const lease = await pool.acquire();
    await lease.release();
    await expect(lease.release()).rejects.toThrow(UsageError);
    await expect(lease.release()).rejects.toThrow(/already released/);
    await using again = await pool.acquire();
    expect(again.branch.id).not.toBe(lease.branch.id);
  });

  it('surfaces a background failure on acquire instead of hanging, then recovers', async () => {
    const other = await engine.snapshot({ name: 'pool-fragile', sql: [], init: () => undefined });
    const dataDir = path.join(cacheDir, 'snapshots', other.hash, 'data');
    const hidden = dataDir + '.away';
    await rename(dataDir, hidden); // every clone now fails
    const pool = engine.pool(other, { warm: 1, max: 2 });
    try {
      const results = await Promise.allSettled([pool.acquire(), pool.acquire()]);
      for (const r of results) {
        expect(r.status).toBe('rejected');
        const err = (r as PromiseRejectedResult).reason as PgbranchError;
        expect(err).toBeInstanceOf(PgbranchError);
        expect(err.message).toMatch(/could not start a branch/);
        expect(err.message).toContain('pool-fragile');
      }
      expect(pool.stats().failed).toBeGreaterThanOrEqual(2);
      await rename(hidden, dataDir);
      const lease = await pool.acquire();
      expect(await query(lease.url, 'select 1 as ok')).toEqual([{ ok: 1 }]);
      await lease.release();
    } finally {
      await pool.close();
    }
  });

  it('closes with leases out: waiters are rejected and every server stops', async () => {
    const pool = engine.pool(snap, { warm: 0, max: 1 });
    const held = await pool.acquire();
    const waiting = pool.acquire().catch((err: unknown) => err);
    await pool.close();
    expect(await waiting).toBeInstanceOf(UsageError);
    expect(String(await waiting)).toMatch(/closed while waiting/);
    expect(held.branch.isDestroyed).toBe(true);
    await expect(pool.acquire()).rejects.toThrow(UsageError);
  });
});
