// Per-file overhead of the vitest plugin: the same suite of N trivial files, run with and without
// pgbranch, alternating, several times; overhead per file = (median with − median without) / N.
// usage: node bench/runner-overhead.mjs [--files 40] [--runs 5]
import { spawnSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { summarize } from '@pgbranch/core/runner';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const project = path.join(root, 'bench/projects/overhead');
const { values } = parseArgs({ options: { files: { type: 'string', default: '40' }, runs: { type: 'string', default: '5' } } });
const files = Number(values.files);
const runs = Number(values.runs);

await rm(path.join(project, 'generated'), { recursive: true, force: true });
await mkdir(path.join(project, 'generated'), { recursive: true });
for (let i = 0; i < files; i++) {
  await writeFile(path.join(project, 'generated', `f${String(i).padStart(2, '0')}.test.ts`), `import { expect, it } from 'vitest';\nit('works', () => expect(${i} + 1).toBe(${i + 1}));\n`);
}

const env = (withPlugin) => {
  const e = { ...process.env, FORCE_COLOR: '0' };
  if (withPlugin) e.BENCH_PGBRANCH = '1';
  else delete e.BENCH_PGBRANCH;
  return e;
};
const vitest = path.join(project, 'node_modules/.bin/vitest');
const run = (withPlugin) => {
  const t0 = performance.now();
  const r = spawnSync(vitest, ['run'], { cwd: project, env: env(withPlugin), encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`vitest failed (${withPlugin ? 'with' : 'without'} pgbranch):\n${r.stdout}\n${r.stderr}`);
  return { ms, summary: /pgbranch: .*/.exec(r.stdout)?.[0] };
};

run(true); // seeds or reuses the snapshot, warms file caches
run(false);
const withMs = [];
const withoutMs = [];
let lastSummary;
for (let i = 0; i < runs; i++) {
  const w = run(true);
  withMs.push(w.ms);
  lastSummary = w.summary;
  withoutMs.push(run(false).ms);
}
const w = summarize(withMs);
const wo = summarize(withoutMs);
console.log(`${files} files × ${runs} runs each, alternating`);
console.log(`suite wall time with pgbranch:    median ${w.p50.toFixed(0)} ms  (${withMs.map((m) => m.toFixed(0)).join(', ')})`);
console.log(`suite wall time without database: median ${wo.p50.toFixed(0)} ms  (${withoutMs.map((m) => m.toFixed(0)).join(', ')})`);
console.log(`per-file overhead: ${((w.p50 - wo.p50) / files).toFixed(1)} ms (ratio ${(w.p50 / wo.p50).toFixed(2)}×)`);
console.log(`last run: ${lastSummary}`);
await rm(path.join(project, 'generated'), { recursive: true, force: true });
