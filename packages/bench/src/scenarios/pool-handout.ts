import { PoolClient } from '@pgbranch/core/client';
import { PoolServer } from '@pgbranch/core/server';
import path from 'node:path';
import { methodResult } from '../stats.js';
import type { MethodResult, Scenario } from '../types.js';
import { fixture, query } from './common.js';

/**
 * Scenario 3: hand-out from a warm pool under 1, 2, 4, 8 concurrent acquirers. Each acquirer holds its
 * branch for a test-like 150 ms, so the pool refills behind it; a second pass releases at once to find
 * the sustained rate at which the pool can create branches (what bounds hand-out when demand outruns it).
 */
export const poolHandout: Scenario = {
  id: 'pool-handout',
  title: 'Hand-out from a warm pool vs concurrent acquirers',
  async run(ctx) {
    const results: MethodResult[] = [];
    const notes: string[] = [];
    const leases = ctx.full ? 120 : 40;
    for (const concurrency of [1, 2, 4, 8]) {
      const server = await PoolServer.start({
        engine: { cacheDir: path.join(ctx.workDir, 'pool') },
        recipes: { app: { name: 'sync-store', sql: fixture(ctx) } },
        pool: { warm: Math.min(8, 2 * concurrency), max: 16 },
      });
      try {
        await server.whenWarm();
        const held = await lease(server, concurrency, leases, 150, (i) => ctx.progress(`${concurrency} acquirers, 150 ms holds: ${i}/${leases}`));
        results.push(methodResult('acquire(), 150 ms holds', held.acquire, { group: `${concurrency} acquirers`, x: concurrency }));
        await server.whenWarm();
        const burst = await lease(server, concurrency, leases, 0, (i) => ctx.progress(`${concurrency} acquirers, no hold: ${i}/${leases}`));
        results.push(methodResult('acquire(), released at once', burst.acquire, { group: `${concurrency} acquirers`, x: concurrency }));
        notes.push(
          `${concurrency} acquirers: sustained ${(leases / burst.seconds).toFixed(1)} branches/s when every lease is released at once ` +
            `(creation-bound; create p50 ${server.stats().pools.app!.createMs.p50.toFixed(0)} ms on ${ctx.full ? 'the full' : 'the quick'} profile)`,
        );
      } finally {
        await server.close();
      }
    }
    notes.unshift('acquire() latency includes the unix-socket round trip; each lease runs one query on its branch. Warm = 2 × acquirers (at most 8).');
    return {
      id: this.id,
      title: this.title,
      status: 'ok',
      results,
      charts: [{ kind: 'line', title: 'acquire() p50 (bar to p95) vs concurrent acquirers', file: 'pool-handout.svg', xLabel: 'concurrent acquirers', yLabel: 'ms', log: true }],
      notes,
    };
  },
};

async function lease(server: PoolServer, concurrency: number, total: number, holdMs: number, progress: (i: number) => void): Promise<{ acquire: number[]; seconds: number }> {
  const acquire: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      const client = await PoolClient.connect(server.address, server.token);
      while (next < total) {
        progress(++next);
        const t = performance.now();
        const info = await client.acquire('app', 'bench');
        acquire.push(performance.now() - t);
        await query(info.url);
        if (holdMs) await new Promise((r) => setTimeout(r, holdMs));
        await client.release(info.leaseId);
      }
      await client.close();
    }),
  );
  return { acquire, seconds: (performance.now() - t0) / 1000 };
}
