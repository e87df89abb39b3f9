import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type Pool, type PoolOptions, type Snapshot } from '@pgbranch/core';
import { query } from './support/pg.js';
import { freshCacheDir, postgresProcessesUnder } from './support/processes.js';

const LOOPS = 8;
const ITERATIONS = 4;

/** Branch directories left under the cache directory (branches/<session>/<id>). */
async function branchDirs(cacheDir: string): Promise<string[]> {
  const root = path.join(cacheDir, 'branches');
  if (!existsSync(root)) return [];
  const found: string[] = [];
  for (const session of await readdir(root)) for (const id of await readdir(path.join(root, session))) found.push(`${session}/${id}`);
  return found;
}

/** Creates a table on a branch and writes one row: fails on a branch that had been handed out before. */
async function mark(url: string, n: number): Promise<number[]> {
  await query(url, 'create table mark (n int)');
  await query(url, 'insert into mark values ($1)', [n]);
  return (await query<{ n: number }>(url, 'select n from mark')).map((r) => r.n);
}

/** The most of each counter seen while `fn` runs, sampled every millisecond. */
async function peaks(pool: Pool, fn: () => Promise<void>): Promise<{ alive: number; starting: number; waiting: number }> {
  const peak = { alive: 0, starting: 0, waiting: 0 };
  const sample = () => {
    const s = pool.stats();
    peak.alive = Math.max(peak.alive, s.ready + s.leased + s.starting + s.destroying);
    peak.starting = Math.max(peak.starting, s.starting);
    peak.waiting = Math.max(peak.waiting, s.waiting);
  };
  const timer = setInterval(sample, 1);
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  return peak;
}

describe('pool under load', () => {
  const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'pool-load');
  let engine: Engine;
  let snap: Snapshot;

  beforeAll(async () => {
    await freshCacheDir(cacheDir);
    engine = await createEngine({ cacheDir });
    snap = await engine.snapshot({ name: 'load', sql: [] });
  });
  afterAll(async () => {
    await engine.close();
    expect(postgresProcessesUnder(cacheDir)).toEqual([]);
    await rm(cacheDir, { recursive: true, force: true });
  });

  /** LOOPS concurrent acquire/release loops; every lease must get a branch nobody had, with nothing of anyone else's. */
  async function hammer(options: PoolOptions) {
    const pool = engine.pool(snap, { warm: 2, max: 8, ...options });
    await pool.whenWarm();
    const seen = new Set<string>();
    const peak = await peaks(pool, async () => {
      await Promise.all(
        Array.from({ length: LOOPS }, async () => {
          for (let i = 0; i < ITERATIONS; i++) {
            const lease = await pool.acquire();
            expect(seen.has(lease.branch.name)).toBe(false); // names are numbered per creation
            expect(seen.has(lease.branch.id)).toBe(false);
            seen.add(lease.branch.name).add(lease.branch.id);
            // A branch used before would already have the table.
            expect(await mark(lease.url, i)).toEqual([i]);
            await lease.release();
          }
        }),
      );
    }).finally(() => pool.close());
    expect(seen.size).toBe(2 * LOOPS * ITERATIONS);
    expect(await branchDirs(cacheDir)).toEqual([]);
    expect(postgresProcessesUnder(cacheDir)).toEqual([]);
    return peak;
  }

  it(`${LOOPS} acquire/release loops on warm 2 / max 8: distinct working branches, within max, starts follow the queue, nothing left`, async () => {
    const peak = await hammer({});
    expect(peak.waiting).toBeGreaterThan(0);
    expect(peak.alive).toBeLessThanOrEqual(8);
    // With waiters queued, each gets a start of its own (a fixed one-at-a-time start never passed 4 alive here).
    expect(peak.alive).toBeGreaterThan(4);
    expect(peak.starting).toBeGreaterThan(1);
  });

  it('an explicit concurrency stays a fixed limit under the same load', async () => {
    const peak = await hammer({ concurrency: 1 });
    expect(peak.waiting).toBeGreaterThan(0);
    expect(peak.starting).toBe(1);
    expect(peak.alive).toBeLessThanOrEqual(8);
  });

  it('30 concurrent branch() calls: 30 distinct working branches, nothing left after destroy', async () => {
    const branches = await Promise.all(Array.from({ length: 30 }, (_, i) => snap.branch({ name: `burst-${i}` })));
    try {
      expect(new Set(branches.map((b) => b.url)).size).toBe(30);
      expect(new Set(branches.map((b) => b.port)).size).toBe(30);
      const marks = await Promise.all(branches.map((b, i) => mark(b.url, i)));
      expect(marks).toEqual(branches.map((_, i) => [i]));
    } finally {
      await Promise.all(branches.map((b) => b.destroy()));
    }
    expect(await branchDirs(cacheDir)).toEqual([]);
    expect(postgresProcessesUnder(cacheDir)).toEqual([]);
  });
});
