// Branch creation latency per cloner and snapshot size: branch() = clone + start + first query over TCP.
// usage: node bench/branch-latency.mjs [--iterations N] [--sizes small,1gb] [--cloners copy,overlay,reflink,btrfs]
// Cache dirs: copy/overlay under the work disk (PGBRANCH_BENCH_DIR, default /var/tmp/pgbranch-bench),
// reflink/btrfs under PGBRANCH_TEST_REFLINK_DIR / PGBRANCH_TEST_BTRFS_DIR (scripts/test-filesystems.sh up).
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createEngine } from '@pgbranch/core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    iterations: { type: 'string', default: '20' },
    sizes: { type: 'string', default: 'small,1gb' },
    cloners: { type: 'string', default: 'copy,overlay,reflink,btrfs' },
  },
});
const iterations = Number(values.iterations);
const RECIPES = {
  small: [path.join(root, 'fixtures/recipes/sync-store')],
  '1gb': [path.join(root, 'bench/recipes/bulk-1gb')],
};
const workDir = process.env.PGBRANCH_BENCH_DIR ?? '/var/tmp/pgbranch-bench';
const DIRS = {
  copy: path.join(workDir, 'copy'),
  overlay: path.join(workDir, 'overlay'),
  reflink: process.env.PGBRANCH_TEST_REFLINK_DIR && path.join(process.env.PGBRANCH_TEST_REFLINK_DIR, 'bench'),
  btrfs: process.env.PGBRANCH_TEST_BTRFS_DIR && path.join(process.env.PGBRANCH_TEST_BTRFS_DIR, 'bench'),
};

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const results = [];
for (const cloner of values.cloners.split(',')) {
  if (!DIRS[cloner]) {
    console.log(`${cloner}: not available (mount it with scripts/test-filesystems.sh up)`);
    continue;
  }
  const engine = await createEngine({ cacheDir: DIRS[cloner], cloner });
  try {
    for (const size of values.sizes.split(',')) {
      const t0 = performance.now();
      const snap = await engine.snapshot({ name: `bench-${size}`, sql: RECIPES[size] });
      const seedMs = performance.now() - t0;
      // Copying 1 GB per iteration is slow by nature; fewer samples keep the run bounded.
      const n = cloner === 'copy' && size === '1gb' ? Math.min(iterations, 7) : iterations;
      const samples = [];
      for (let i = 0; i < n + 1; i++) {
        const t = performance.now();
        const branch = await snap.branch();
        const client = new pg.Client({ connectionString: branch.url });
        await client.connect();
        await client.query('select 1');
        const ms = performance.now() - t;
        await client.end();
        await branch.destroy();
        if (i > 0) samples.push(ms); // the first one warms caches
      }
      samples.sort((a, b) => a - b);
      const row = { cloner, size, snapshotBytes: snap.sizeBytes, reused: snap.reused, seedMs, n, p50: pct(samples, 50), p95: pct(samples, 95), p99: pct(samples, 99), samples };
      results.push(row);
      console.log(`${cloner.padEnd(8)} ${size.padEnd(6)} ${(snap.sizeBytes / 1e6).toFixed(0).padStart(5)} MB  n=${n}  p50 ${row.p50.toFixed(1)} ms  p95 ${row.p95.toFixed(1)} ms`);
    }
  } finally {
    await engine.close();
  }
}

const lines = ['| cloner | snapshot | size | n | p50 ms | p95 ms | 1 GB / small (p50) |', '| --- | --- | --- | --- | --- | --- | --- |'];
for (const r of results) {
  const small = results.find((s) => s.cloner === r.cloner && s.size === 'small');
  const ratio = r.size === '1gb' && small ? (r.p50 / small.p50).toFixed(2) + '×' : '';
  lines.push(`| ${r.cloner} | ${r.size} | ${(r.snapshotBytes / 1e6).toFixed(0)} MB | ${r.n} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${ratio} |`);
}
console.log('\n' + lines.join('\n'));
const out = path.join(root, 'bench/results', `branch-latency-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
await mkdir(path.dirname(out), { recursive: true });
await writeFile(out, JSON.stringify({ machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version }, results }, null, 2));
console.log(`\nwrote ${path.relative(root, out)}`);
