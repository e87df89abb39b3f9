// Cold container start to first query: a pgbranch docker branch (container from a committed snapshot
// image) versus a fresh Testcontainers container doing initdb + start, same image, same machine, same run.
// usage: node bench/docker-latency.mjs [--iterations 15] [--image pgbranch-test/postgres:18]
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createEngine } from '@pgbranch/core';
import { summarize } from '@pgbranch/core/runner';

process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true'; // its reaper image would need a registry
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1'; // no bridge network here to find a gateway on
const { GenericContainer, Wait } = await import('testcontainers');

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { iterations: { type: 'string', default: '15' }, image: { type: 'string', default: 'pgbranch-test/postgres:18' } } });
const n = Number(values.iterations);
const image = values.image;

async function firstQuery(config) {
  const client = new pg.Client(config);
  await client.connect();
  await client.query('select 1');
  await client.end();
}

const engine = await createEngine({ cacheDir: path.join(os.tmpdir(), 'pgbranch-bench-docker'), driver: 'docker', docker: { image, network: 'host' } });
const pgbranchMs = [];
const testcontainersMs = [];
try {
  const snap = await engine.snapshot({ name: 'sync-store', sql: [path.join(root, 'fixtures/recipes/sync-store')] });
  for (let i = 0; i <= n; i++) {
    // Alternate the two methods so that machine noise hits both alike; the first round warms caches.
    let t = performance.now();
    const branch = await snap.branch();
    await firstQuery(branch.url);
    if (i > 0) pgbranchMs.push(performance.now() - t);
    await branch.destroy();

    const port = 40000 + i;
    t = performance.now();
    const container = await new GenericContainer(image)
      .withNetworkMode('host')
      .withUser('postgres')
      .withCommand(['sh', '-c', `initdb -D /tmp/d -U postgres --auth=trust >/dev/null && exec postgres -D /tmp/d -p ${port} -c listen_addresses=127.0.0.1 -c fsync=off`])
      .withWaitStrategy(Wait.forLogMessage(/ready to accept connections/))
      .start();
    await firstQuery({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
    if (i > 0) testcontainersMs.push(performance.now() - t);
    await container.stop({ timeout: 1 });
  }
} finally {
  await engine.close();
}
const a = summarize(pgbranchMs);
const b = summarize(testcontainersMs);
const row = (label, s) => `| ${label} | ${s.count} | ${s.p50.toFixed(0)} | ${s.p95.toFixed(0)} | ${s.p99.toFixed(0)} |`;
console.log('| method (image ' + image + ') | n | p50 ms | p95 ms | p99 ms |\n| --- | --- | --- | --- | --- |');
console.log(row('pgbranch docker branch (snapshot image, host network)', a));
console.log(row('Testcontainers fresh container (initdb + start)', b));
console.log(`\nratio of medians: Testcontainers / pgbranch = ${(b.p50 / a.p50).toFixed(1)}×`);
const out = path.join(root, 'bench/results', `docker-latency-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
await mkdir(path.dirname(out), { recursive: true });
await writeFile(out, JSON.stringify({ image, pgbranch: a, testcontainers: b, samples: { pgbranchMs, testcontainersMs } }, null, 2));
console.log(`wrote ${path.relative(root, out)}`);
