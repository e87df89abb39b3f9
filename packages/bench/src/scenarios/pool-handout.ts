import { PoolClient, PoolServer } from '@pgbranch/core';
import path from 'node:path';
import { methodResult } from '../stats.js';
import type { MethodResult, Scenario } from '../types.js';
import { fixture, query } from './common.js';

/** Scenario 3: hand-out from a warm pool under 1, 2, 4, 8 concurrent acquirers, and sustained throughput. */
export const poolHandout: Scenario = {
  id: 'pool-handout',
  title: 'Hand-out from a warm pool vs concurrent acquirers',
  async run(ctx) {
    const results: MethodResult[] = [];
    const notes: string[] = [];
    const leasesPerRun = ctx.full ? 120 : 40;
    for (const concurrency of [1, 2, 4, 8]) {
      const server = await PoolServer.start({
        engine: { cacheDir: path.join(ctx.workDir, 'pool') },
        recipes: { app: { name: 'sync-store', sql: fixture(ctx) } },
        pool: { warm: concurrency },
      });
      try {
        await server.whenWarm();
        const acquire: number[] = [];
        let next = 0;
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            const client = await PoolClient.connect(server.address);
            while (next < leasesPerRun) {
              next++;
              ctx.progress(`${concurrency} acquirers: lease ${next}/${leasesPerRun}`);
              const t = performance.now();
              const lease = await client.acquire('app', 'bench');
              acquire.push(performance.now() - t);
              await query(lease.url); // the holder's first query, then release: the pool must refill behind
              await client.release(lease.leaseId);
            }
            await client.close();
          }),
        );
        const seconds = (performance.now() - t0) / 1000;
        results.push(methodResult('acquire() hand-over', acquire, { group: `${concurrency} acquirers`, x: concurrency }));
        notes.push(`${concurrency} acquirers: sustained ${(leasesPerRun / seconds).toFixed(1)} branches/s while refilling (${leasesPerRun} leases in ${seconds.toFixed(1)} s; create p50 ${server.stats().pools.app!.createMs.p50.toFixed(0)} ms)`);
      } finally {
        await server.close();
      }
    }
    notes.unshift('Each acquirer takes a branch, runs one query and releases it at once: the worst case for a pool, which must create a replacement for every lease. Acquire latency includes the unix-socket round trip.');
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
