// Docker storage modes side by side: 'image' (snapshot image, container-layer copy-on-write) versus
// 'bind' (host btrfs/reflink clone bind-mounted). Two measures per mode and snapshot size:
// cold branch (create → first query) and the first write to the big table (whole-file copy-up in
// overlay2 versus block-level copy-on-write).
// usage: node bench/docker-storage.mjs [--iterations 8] (needs PGBRANCH_TEST_BTRFS_DIR / PGBRANCH_TEST_REFLINK_DIR for bind modes)
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createEngine } from '@pgbranch/core';
import { summarize } from '@pgbranch/core/runner';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { iterations: { type: 'string', default: '8' }, image: { type: 'string', default: 'pgbranch-test/postgres:18' } } });
const n = Number(values.iterations);
const modes = [
  { label: 'image (overlay2 layers)', storage: 'image', cacheDir: path.join(os.tmpdir(), 'pgbranch-bench-docker') },
  ...(process.env.PGBRANCH_TEST_BTRFS_DIR ? [{ label: 'bind (btrfs clone)', storage: 'bind', cacheDir: path.join(process.env.PGBRANCH_TEST_BTRFS_DIR, 'bench-docker') }] : []),
  ...(process.env.PGBRANCH_TEST_REFLINK_DIR ? [{ label: 'bind (reflink clone)', storage: 'bind', cacheDir: path.join(process.env.PGBRANCH_TEST_REFLINK_DIR, 'bench-docker') }] : []),
];
const recipes = { small: ['fixtures/recipes/sync-store'], '1gb': ['bench/recipes/bulk-1gb'] };
const writeSql = { small: "update documents set name = name || '!' where id = md5('doc-1')::uuid", '1gb': "update bulk set payload = 'x' where id = 1" };

async function timed(url, sql) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const t = performance.now();
  await client.query(sql);
  const ms = performance.now() - t;
  await client.end();
  return ms;
}

const rows = [];
for (const mode of modes) {
  const engine = await createEngine({ cacheDir: mode.cacheDir, driver: 'docker', docker: { image: values.image, network: 'host', storage: mode.storage } });
  try {
    for (const [size, sql] of Object.entries(recipes)) {
      const snap = await engine.snapshot({ name: `bench-${size}`, sql: sql.map((p) => path.join(root, p)) });
      const cold = [];
      const firstWrite = [];
      for (let i = 0; i <= n; i++) {
        const t = performance.now();
        const branch = await snap.branch();
        const client = new pg.Client({ connectionString: branch.url });
        await client.connect();
        await client.query('select 1');
        await client.end();
        const coldMs = performance.now() - t;
        const writeMs = await timed(branch.url, writeSql[size]);
        await branch.destroy();
        if (i > 0) {
          cold.push(coldMs);
          firstWrite.push(writeMs);
        }
      }
      const row = { mode: mode.label, size, cold: summarize(cold), firstWrite: summarize(firstWrite) };
      rows.push(row);
      console.log(`${mode.label.padEnd(24)} ${size.padEnd(6)} cold p50 ${row.cold.p50.toFixed(0)} ms p95 ${row.cold.p95.toFixed(0)} ms | first write p50 ${row.firstWrite.p50.toFixed(0)} ms p95 ${row.firstWrite.p95.toFixed(0)} ms`);
    }
  } finally {
    await engine.close();
  }
}
console.log('\n| storage | snapshot | n | cold branch p50 / p95 ms | first write p50 / p95 ms |\n| --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.mode} | ${r.size} | ${r.cold.count} | ${r.cold.p50.toFixed(0)} / ${r.cold.p95.toFixed(0)} | ${r.firstWrite.p50.toFixed(0)} / ${r.firstWrite.p95.toFixed(0)} |`);
const out = path.join(root, 'bench/results', `docker-storage-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
await mkdir(path.dirname(out), { recursive: true });
await writeFile(out, JSON.stringify({ image: values.image, rows }, null, 2));
console.log(`wrote ${path.relative(root, out)}`);
