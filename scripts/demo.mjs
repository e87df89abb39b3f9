// The main job on the embedded default: seed the sync-store fixture once (cached by content hash),
// branch it, show that branches are isolated, and print a one-line summary.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createEngine } from '@pgbranch/core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const count = Number(process.argv[2] ?? 4);

const engine = await createEngine(); // `await using engine = …` where your runtime supports it (Node ≥ 24, TypeScript)
try {
const info = engine.info();
console.log(`engine: PostgreSQL ${info.postgresVersion} (${info.binariesFrom}), cloner ${info.cloner} — ${info.clonerReason}`);

const t0 = performance.now();
const snap = await engine.snapshot({ name: 'sync-store', sql: [path.join(root, 'fixtures/recipes/sync-store')] });
const seedMs = performance.now() - t0;
console.log(`snapshot ${snap.name} ${snap.hash.slice(0, 12)}: ${snap.reused ? 'reused from cache' : 'seeded'} in ${seedMs.toFixed(0)} ms, ${(snap.sizeBytes / 1e6).toFixed(1)} MB`);

const times = [];
const branches = [];
for (let i = 0; i < count; i++) {
  const t = performance.now();
  const branch = await snap.branch({ name: `demo-${i}` });
  const client = new pg.Client({ connectionString: branch.url });
  await client.connect();
  await client.query('select 1');
  times.push(performance.now() - t);
  await client.query(`update documents set name = 'edited by branch ${i}' where id = (select id from documents order by id limit 1)`);
  await client.end();
  branches.push(branch);
}
for (const [i, branch] of branches.entries()) {
  const client = new pg.Client({ connectionString: branch.url });
  await client.connect();
  const { rows } = await client.query('select name from documents order by id limit 1');
  await client.end();
  console.log(`  ${branch.name} on 127.0.0.1:${branch.port} sees: ${rows[0].name}${rows[0].name === `edited by branch ${i}` ? ' (its own change only)' : ' (UNEXPECTED)'}`);
  await branch.destroy();
}
times.sort((a, b) => a - b);
console.log(
  `summary: ${count} branches of ${snap.name} (snapshot ${snap.reused ? 'reused' : 'built'}), cloner ${info.cloner}, ` +
    `branch → first query median ${times[Math.floor(times.length / 2)].toFixed(1)} ms, max ${times.at(-1).toFixed(1)} ms`,
);
} finally {
  await engine.close();
}
