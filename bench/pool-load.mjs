// acquire() latency of a pool under load: L concurrent acquire/release loops on warm 2 / max 8, with a
// fixed creation concurrency of 1 ("before") and the default that follows the queue of waiters ("after"),
// interleaved over R rounds on one snapshot so both see the same machine state.
// usage: node bench/pool-load.mjs [--rounds 3] [--loops 8] [--iterations 6] [--hold-ms 0]
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createEngine } from '@pgbranch/core';
import { summarize } from '@pgbranch/core/runner';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, loops: { type: 'string', default: '8' }, iterations: { type: 'string', default: '6' }, 'hold-ms': { type: 'string', default: '0' } },
});
const rounds = Number(values.rounds);
const loops = Number(values.loops);
const iterations = Number(values.iterations);
const holdMs = Number(values['hold-ms']);
const configs = [
  { name: 'before (concurrency: 1)', pool: { warm: 2, max: 8, concurrency: 1 } },
  { name: 'after (default)', pool: { warm: 2, max: 8 } },
];

const engine = await createEngine({ cacheDir: process.env.PGBRANCH_CACHE_DIR ?? path.join(os.tmpdir(), 'pgbranch-bench-pool-load') });
const snap = await engine.snapshot({ name: 'sync-store', sql: [path.join(root, 'fixtures/recipes/sync-store')] });

async function measure(options) {
  const pool = engine.pool(snap, options);
  await pool.whenWarm();
  const acquireMs = [];
  let peakAlive = 0;
  const timer = setInterval(() => {
    const s = pool.stats();
    peakAlive = Math.max(peakAlive, s.ready + s.leased + s.starting + s.destroying);
  }, 1);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: loops }, async () => {
      for (let i = 0; i < iterations; i++) {
        const t = performance.now();
        const lease = await pool.acquire();
        acquireMs.push(performance.now() - t);
        const client = new pg.Client({ connectionString: lease.url });
        await client.connect();
        await client.query('select 1');
        await client.end();
        if (holdMs) await new Promise((r) => setTimeout(r, holdMs));
        await lease.release();
      }
    }),
  );
  const wallMs = performance.now() - t0;
  clearInterval(timer);
  await pool.close();
  return { acquireMs, wallMs, peakAlive };
}

const results = configs.map((c) => ({ ...c, rounds: [], all: [] }));
const fmt = (s) => `p50 ${s.p50.toFixed(0).padStart(4)} ms  p95 ${s.p95.toFixed(0).padStart(4)} ms`;
for (let round = 1; round <= rounds; round++) {
  // Alternate which goes first, so neither always runs on a cooler machine.
  const order = round % 2 ? results : [...results].reverse();
  for (const r of order) {
    const m = await measure(r.pool);
    const s = summarize(m.acquireMs);
    r.rounds.push({ ...s, wallMs: m.wallMs, peakAlive: m.peakAlive });
    r.all.push(...m.acquireMs);
    console.log(`round ${round}  ${r.name.padEnd(24)} ${fmt(s)}  wall ${(m.wallMs / 1000).toFixed(2)} s  peak alive ${m.peakAlive}`);
  }
}
console.log(`\n${loops} loops × ${iterations} acquire/release on warm 2 / max 8, ${rounds} rounds interleaved, ${os.availableParallelism()} CPUs`);
for (const r of results) {
  const s = summarize(r.all);
  const median = (k) => summarize(r.rounds.map((x) => x[k])).p50;
  console.log(`${r.name.padEnd(24)} all samples ${fmt(s)}  (median of rounds: p50 ${median('p50').toFixed(0)} ms, p95 ${median('p95').toFixed(0)} ms, wall ${(median('wallMs') / 1000).toFixed(2)} s, peak alive ${median('peakAlive')})`);
}
await engine.close();
const out = path.join(root, 'bench/results', `pool-load-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
await mkdir(path.dirname(out), { recursive: true });
await writeFile(out, JSON.stringify({ loops, iterations, holdMs, rounds, results: results.map(({ name, pool, rounds }) => ({ name, pool, rounds })) }, null, 2));
console.log(`wrote ${path.relative(root, out)}`);
