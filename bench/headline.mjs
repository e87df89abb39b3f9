// Prints the headline table (ours beside the reference figures and the peers) from a run's results.json.
// usage: node bench/headline.mjs bench/results/<run>/results.json
import { readFileSync } from 'node:fs';

const run = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const scenario = (id) => run.scenarios.find((s) => s.id === id && s.status === 'ok');
const ms = (v) => (v < 10 ? v.toFixed(1) : Math.round(v).toLocaleString('en-US'));
const row = (what, r) => `| ${what} | ${ms(r.summary.p50)} / ${ms(r.summary.p95)} / ${ms(r.summary.p99)} ms |`;

const lines = [`Run ${run.startedAt} (${run.profile}), ${run.machine.cpu}, ${run.machine.cores} cores, PostgreSQL ${run.machine.postgres}.`, '', '| what | p50 / p95 / p99 |', '| --- | --- |'];
for (const r of scenario('branch-creation')?.results ?? []) lines.push(row(`branch creation, ${r.method}`, r));
for (const r of scenario('pool-handout')?.results ?? []) if (r.x === 2) lines.push(row(`warm pool ${r.method}, ${r.group}`, r));
for (const r of scenario('reset-destroy')?.results ?? []) if (/local (btrfs|overlay)/.test(r.method)) lines.push(row(r.method, r));
for (const r of scenario('cold-start')?.results ?? []) lines.push(row(r.method, r));
for (const r of scenario('peers')?.results ?? []) if (!r.method.startsWith('pgbranch')) lines.push(row(`peer: ${r.method}`, r));
lines.push('', 'Reference figures (serverless platforms, not measured here): branch creation mean 800 ms, P95 1.2 s, P99 1.8 s;', 'switch mean 50 ms, P95 80–100 ms; delete mean 600 ms, P95 900 ms; resume hot < 100 ms, cold < 2 s (P95).');
const e2e = scenario('end-to-end');
if (e2e) {
  const files = Number(/(\d+) generated files/.exec(e2e.notes?.[0] ?? '')?.[1] ?? 0);
  const base = e2e.results.find((r) => r.method.startsWith('no database'))?.summary.p50 ?? 0;
  lines.push('', `End to end, the same ${files}-file vitest suite (2 workers), median wall time and per-file overhead against no database:`, '');
  lines.push('| suite run with | wall | per file |', '| --- | --- | --- |');
  for (const r of e2e.results) {
    const perFile = r.method.startsWith('no database') ? '—' : `${Math.round((r.summary.p50 - base) / files)} ms`;
    lines.push(`| ${r.method} | ${(r.summary.p50 / 1000).toFixed(1)} s | ${perFile} |`);
  }
}
console.log(lines.join('\n'));
