// acquire() latency from a warm pool, as test workers see it: N concurrent clients on the pool
// server's unix socket, each holding its branch for a simulated test file, then releasing it.
// usage: node bench/pool-acquire.mjs [--workers 2] [--files 60] [--hold-ms 150] [--warm N]
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { PoolClient } from '@pgbranch/core/client';
import { summarize } from '@pgbranch/core/runner';
import { PoolServer } from '@pgbranch/core/server';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { workers: { type: 'string', default: '2' }, files: { type: 'string', default: '60' }, 'hold-ms': { type: 'string', default: '150' }, warm: { type: 'string' } } });
const workers = Number(values.workers);
const files = Number(values.files);
const holdMs = Number(values['hold-ms']);

const server = await PoolServer.start({
  engine: { cacheDir: process.env.PGBRANCH_CACHE_DIR ?? path.join(os.tmpdir(), 'pgbranch-bench-pool') },
  recipes: { app: { name: 'sync-store', sql: [path.join(root, 'fixtures/recipes/sync-store')] } },
  pool: values.warm ? { warm: Number(values.warm) } : {},
});
await server.whenWarm();
const acquireMs = [];
const firstQueryMs = [];
let next = 0;
async function worker() {
  const client = await PoolClient.connect(server.address, server.token);
  while (next < files) {
    next++;
    const t0 = performance.now();
    const lease = await client.acquire('app', 'bench');
    const t1 = performance.now();
    const c = new pg.Client({ connectionString: lease.url });
    await c.connect();
    await c.query('select 1');
    firstQueryMs.push(performance.now() - t1);
    acquireMs.push(t1 - t0);
    await new Promise((r) => setTimeout(r, holdMs)); // the test file's own work
    await c.end();
    await client.release(lease.leaseId);
  }
  await client.close();
}
const t0 = performance.now();
await Promise.all(Array.from({ length: workers }, worker));
const wall = performance.now() - t0;
const stats = server.stats().pools.app;
await server.close();

const a = summarize(acquireMs);
const q = summarize(firstQueryMs);
const fmt = (s) => `p50 ${s.p50.toFixed(2)} ms, p95 ${s.p95.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms`;
console.log(`pool: warm ${server.stats ? stats.ready + stats.leased : ''} · ${workers} workers × ${files} files holding ${holdMs} ms each, wall ${(wall / 1000).toFixed(1)} s`);
console.log(`acquire() as a worker sees it (unix socket round trip included): ${fmt(a)}`);
console.log(`first query on the leased branch (TCP connect + auth + select 1):   ${fmt(q)}`);
console.log(`branch creation in the background (clone + start + prewarm):        ${fmt(stats.createMs)}`);
const out = path.join(root, 'bench/results', `pool-acquire-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
await mkdir(path.dirname(out), { recursive: true });
await writeFile(out, JSON.stringify({ workers, files, holdMs, wallMs: wall, acquire: a, firstQuery: q, create: stats.createMs, samples: { acquireMs, firstQueryMs } }, null, 2));
console.log(`wrote ${path.relative(root, out)}`);
