import type { BenchContext, Scenario, ScenarioResult } from '../../types.js';
import { pglite } from './pglite.js';
import { fileCopyClone, PGBRANCH, pgbranchAndTemplates } from './pgbranch-templates.js';
import { RunContext } from './run-context.js';
import { copyCloner, initdbEmpty, initdbFixture } from './servers.js';
import { describe, QUERY, readFixture, runCleanups } from './support.js';
import { testcontainers } from './testcontainers.js';

/**
 * Scenario "peers": every way this machine offers to get a fresh, isolated database holding the sync-store
 * fixture, measured in the same run on the same fixture, from the request until `select count(*) from documents`
 * returns. Every sample's cleanup (drop database, destroy, stop) is outside the timed part.
 */
export const peers: Scenario = { id: 'peers', title: 'Peers, same run, same machine, same fixture', run: runPeers };

async function runPeers(ctx: BenchContext): Promise<ScenarioResult> {
  const started = performance.now();
  const run = new RunContext(ctx);
  try {
    run.files = await readFixture(run.fixtureDir);
    run.notes.push(
      `Every method: from the request for a fresh isolated database holding the sync-store fixture (${run.files.map((f) => f.name).join(', ')}) ` +
        `until "${QUERY}" returns on it; one warm-up, then the samples; cleanup after each sample is not timed.`,
    );
    await run.attempt('pgbranch and template databases', () => pgbranchAndTemplates(run));
    await run.attempt('FILE_COPY with file_copy_method = clone', () => fileCopyClone(run));
    await run.attempt('plain data-directory copy', () => copyCloner(run));
    await run.attempt('initdb + start (no fixture loaded)', () => initdbEmpty(run));
    await run.attempt('initdb + start + load fixture', () => initdbFixture(run));
    await run.attempt('Testcontainers', () => testcontainers(run));
    await run.attempt('PGlite', () => pglite(run));
  } catch (err) {
    run.notes.push(`scenario stopped early: ${describe(err)}`);
  } finally {
    const errors: string[] = [];
    await runCleanups(run.finalizers.splice(0), errors);
    for (const e of errors) run.notes.push(`final cleanup: ${e}`);
  }
  ratioNotes(run);
  const status = run.results.length > 0 ? 'ok' : 'failed';
  return {
    id: peers.id,
    title: peers.title,
    status,
    reason: status === 'failed' ? 'no method could be measured (see notes)' : undefined,
    results: run.results,
    reference: [],
    charts: [{ kind: 'distribution', title: 'Fresh isolated database with the fixture → first query', file: 'peers.svg', yLabel: 'ms', log: true }],
    notes: run.notes,
    durationMs: performance.now() - started,
  };
}

/** Each method's p50 as a multiple of pgbranch's, measured in the same run. */
function ratioNotes(run: RunContext): void {
  const ref = run.results.find((r) => r.method.startsWith(PGBRANCH));
  if (!ref || ref.summary.count === 0 || ref.summary.p50 <= 0) {
    run.notes.push('× pgbranch: not computed (pgbranch was not measured).');
    return;
  }
  run.notes.push(`× pgbranch = a method's p50 ÷ the p50 of "${ref.method}" (${ref.summary.p50.toFixed(1)} ms), same run:`);
  for (const r of run.results) {
    if (r === ref || r.summary.count === 0) continue;
    run.notes.push(`  ${r.method}: p50 ${r.summary.p50.toFixed(1)} ms = ${formatRatio(r.summary.p50 / ref.summary.p50)} × pgbranch`);
  }
}

function formatRatio(x: number): string {
  return x >= 10 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toFixed(2);
}
