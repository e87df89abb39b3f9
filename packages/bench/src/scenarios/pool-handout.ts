import { PoolClient } from '@pgbranch/core/client';
import { PoolServer } from '@pgbranch/core/server';
import path from 'node:path';
import { runMicro, type MicroTask } from '../micro.js';
import { methodResult } from '../stats.js';
import type { MethodResult, Scenario } from '../types.js';
import { fixture, query } from './common.js';

const HELD = 'acquire(), 150 ms holds';
const BURST = 'acquire(), released at once';

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
      const clients: PoolClient[] = [];
      try {
        await server.whenWarm();
        // One connection per acquirer, as a test worker has; a lease borrows an idle one.
        for (let i = 0; i < concurrency; i++) clients.push(await PoolClient.connect(server.address, server.token));
        let burstSeconds = 0;
        const tasks = [leaseTask(HELD, server, clients, 150), leaseTask(BURST, server, clients, 0, (seconds) => (burstSeconds = seconds))];
        // Warm-up: one lease per connection; each measured phase then starts from a warm pool again.
        const progress = (task: string, done: number, total: number) => ctx.progress(`${concurrency} acquirers, ${task}: ${done}/${total}`);
        for (const [method, samples] of await runMicro(tasks, { iterations: leases, concurrency, warmup: concurrency, progress })) {
          results.push(methodResult(method, samples, { group: `${concurrency} acquirers`, x: concurrency }));
        }
        notes.push(
          `${concurrency} acquirers: sustained ${(leases / burstSeconds).toFixed(1)} branches/s when every lease is released at once ` +
            `(creation-bound; create p50 ${server.stats().pools.app!.createMs.p50.toFixed(0)} ms on ${ctx.full ? 'the full' : 'the quick'} profile)`,
        );
      } finally {
        for (const client of clients) await client.close();
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

/**
 * One lease per call: acquire() (timed, through tinybench's overriddenDuration, since the concurrent calls of one task
 * share no per-call hooks), then one query, the hold and the release, untimed. Each phase starts from a warm pool;
 * `onRun` gets the wall time of the measured phase.
 */
function leaseTask(name: string, server: PoolServer, clients: PoolClient[], holdMs: number, onRun?: (seconds: number) => void): MicroTask {
  const idle = [...clients];
  let started = 0;
  return {
    name,
    beforeAll: async () => {
      await server.whenWarm();
      started = performance.now();
    },
    fn: async () => {
      const client = idle.pop()!; // never empty: at most one call per connection is in flight
      try {
        const t = performance.now();
        const info = await client.acquire('app', 'bench');
        const overriddenDuration = performance.now() - t;
        await query(info.url);
        if (holdMs) await new Promise((r) => setTimeout(r, holdMs));
        await client.release(info.leaseId);
        return { overriddenDuration };
      } finally {
        idle.push(client);
      }
    },
    afterAll: (phase) => {
      if (phase === 'run') onRun?.((performance.now() - started) / 1000);
    },
  };
}
