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
  // Per-file overhead as the scenario reports it: the median over the rounds of the same-round difference ÷ files.
  const groups = [...new Set(e2e.results.map((r) => r.group))];
  const filesOf = (group) => Number(/^(\d+) files/.exec(group)?.[1] ?? 0);
  const median = (v) => { const s = [...v].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
  const over = (r, ref) => {
    if (!ref || r === ref) return '—';
    const n = Math.min(r.samples.length, ref.samples.length);
    const ms = Math.round(median(Array.from({ length: n }, (_, i) => (r.samples[i] - ref.samples[i]) / filesOf(r.group))));
    return `${ms < 0 ? '−' : '+'}${Math.abs(ms)} ms`;
  };
  const [main, ...growth] = groups;
  const inGroup = (g) => e2e.results.filter((r) => r.group === g);
  const floorOf = (g) => inGroup(g).find((r) => r.method.startsWith('floor'));
  const noneOf = (g) => inGroup(g).find((r) => r.method.startsWith('no database'));
  const runs = inGroup(main)[0]?.samples.length ?? 0;
  lines.push('', `End to end, one generated vitest suite (${main}, ${runs} runs per mode, modes alternating), median wall time and per-file`, 'overhead over the floor (one shared database, each file rolled back) and over no database:', '');
  lines.push('| suite run with | wall p50 | per file over the floor | over no database |', '| --- | --- | --- | --- |');
  for (const r of inGroup(main)) lines.push(`| ${r.method} | ${(r.summary.p50 / 1000).toFixed(1)} s | ${/^(floor|no database)/.test(r.method) ? '—' : over(r, floorOf(main))} | ${r.method.startsWith('no database') ? '—' : over(r, noneOf(main))} |`);
  if (growth.length) {
    lines.push('', `The fast modes with more files and more workers (per file over the floor; ${e2e.results.find((r) => r.group === growth[0])?.samples.length ?? 0} run each):`, '');
    lines.push(`| suite run with | ${growth.join(' | ')} |`, `| --- | ${growth.map(() => '---').join(' | ')} |`);
    for (const r of inGroup(growth[0])) {
      if (r.method.startsWith('no database') || r.method.startsWith('floor')) continue;
      lines.push(`| ${r.method} | ${growth.map((g) => { const x = inGroup(g).find((y) => y.method === r.method); return x ? over(x, floorOf(g)) : '—'; }).join(' | ')} |`);
    }
  }
}
console.log(lines.join('\n'));
