// `pnpm bench` — the quick profile (about 20 minutes on a 2-core machine, most of it the end-to-end suite runs); `pnpm bench --full` adds large
// snapshots and more iterations; `pnpm bench --scenario NAME` runs one scenario (repeatable).
// Results: bench/results/<timestamp>/{results.json,report.md,*.svg}.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runBench, SCENARIOS } from '@pgbranch/bench';

let values;
try {
  ({ values } = parseArgs({
    options: { full: { type: 'boolean', default: false }, scenario: { type: 'string', multiple: true }, list: { type: 'boolean', default: false } },
  }));
} catch (err) {
  // Bad usage gets a message and exit code 2, never a stack trace.
  console.error(`pgbranch bench: ${err.message}\nUsage: pnpm bench [--full] [--scenario ID…] [--list]`);
  process.exit(2);
}
if (values.list) {
  for (const s of SCENARIOS) console.log(`${s.id.padEnd(16)} ${s.title}`);
  process.exit(0);
}
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { dir, run } = await runBench({ root, full: values.full, scenarios: values.scenario }).catch((err) => {
  if (err?.code !== 'PGBRANCH_BENCH_UNKNOWN_SCENARIO') throw err;
  console.error(`pgbranch bench: ${err.message}`); // lists the scenarios; nothing was run or written
  process.exit(2);
});
const failed = run.scenarios.filter((s) => s.status === 'failed');
console.log(`\nwrote ${path.relative(root, dir)}/report.md, results.json and ${run.scenarios.reduce((n, s) => n + s.charts.length, 0)} charts`);
for (const s of failed) console.log(`failed: ${s.title}: ${s.reason}`);
process.exitCode = failed.length ? 1 : 0;
