// What the end of a test file costs the worker: release() round trip on the pool server's socket,
// with the graceful teardown (wait for the file's connections to close, then destroy) and without it
// (teardownTimeout 0). Each file opens a client, queries, and closes it before releasing (the common case).
// usage: node bench/release-drain.mjs [--files 30]
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { PoolClient } from '@pgbranch/core/client';
import { summarize } from '@pgbranch/core/runner';
import { PoolServer } from '@pgbranch/core/server';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { files: { type: 'string', default: '30' } } });
const files = Number(values.files);

async function measure(teardownTimeout) {
  const server = await PoolServer.start({
    engine: { cacheDir: process.env.PGBRANCH_CACHE_DIR ?? path.join(os.tmpdir(), 'pgbranch-bench-release') },
    recipes: { app: { name: 'sync-store', sql: [path.join(root, 'fixtures/recipes/sync-store')] } },
    pool: { warm: 2 },
    teardownTimeout,
  });
  try {
    await server.whenWarm();
    const client = await PoolClient.connect(server.address, server.token);
    const releaseMs = [];
    for (let i = 0; i < files; i++) {
      const lease = await client.acquire('app', 'bench');
      const c = new pg.Client({ connectionString: lease.url });
      await c.connect();
      await c.query('select 1');
      await c.end();
      const t0 = performance.now();
      await client.release(lease.leaseId);
      releaseMs.push(performance.now() - t0);
      await server.whenWarm(); // the next file finds a warm branch, as in a run with spare capacity
    }
    await client.close();
    return summarize(releaseMs);
  } finally {
    await server.close();
  }
}

const fmt = (s) => `p50 ${s.p50.toFixed(2)} ms, p95 ${s.p95.toFixed(2)} ms`;
const without = await measure(0);
const withDrain = await measure(2000);
console.log(`release() with clients already closed, n = ${files}:`);
console.log(`  teardownTimeout 0 (destroy at once): ${fmt(without)}`);
console.log(`  teardownTimeout 2000 (wait for clients): ${fmt(withDrain)}`);
console.log(`  added per file: ${(withDrain.p50 - without.p50).toFixed(2)} ms at the median`);
