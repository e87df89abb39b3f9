import path from 'node:path';
import { methodResult } from '../../stats.js';
import type { RunContext } from './run-context.js';
import { queryOnce } from './support.js';

/** A plain file copy of the seeded data directory + start, per sample (pgbranch with cloner 'copy'). */
export async function copyCloner(run: RunContext): Promise<void> {
  const { ctx } = run;
  const { engine, release } = await run.engine(path.join(ctx.workDir, 'peers-copy'), 'copy');
  ctx.progress('peers: seeding sync-store snapshot (copy engine)');
  const snap = await engine.snapshot({ name: 'sync-store', sql: [run.fixtureDir] });
  const samples = await run.sampleLoop('plain data-directory copy + start', ctx.iterations, async (defer) => {
    const branch = await snap.branch();
    defer(() => branch.destroy());
    await queryOnce(branch.connectionOptions(), defer);
  });
  run.results.push(
    methodResult('plain data-directory copy + start', samples, {
      note: `pgbranch with cloner 'copy' (a plain file copy of the ${(snap.sizeBytes / 1e6).toFixed(0)} MB data directory on the work disk) + start postgres + pg connect + query.`,
    }),
  );
  await release();
}

/** A fresh cluster per sample with nothing loaded: the lower bound for any fresh cluster. */
export async function initdbEmpty(run: RunContext): Promise<void> {
  const { ctx } = run;
  const n = Math.min(ctx.iterations, 3);
  const method = 'initdb + start (no fixture loaded)';
  const samples = await run.sampleLoop(method, n, async (defer, i) => {
    const { engine, release } = await run.engine(path.join(ctx.workDir, `peers-fresh-empty-${i}`));
    defer(release);
    const snap = await engine.snapshot({ name: 'empty', sql: [] });
    const branch = await snap.branch();
    defer(() => branch.destroy());
    await queryOnce(branch.connectionOptions(), defer, 'select 1');
  });
  run.results.push(
    methodResult(method, samples, {
      note:
        `No fixture: createEngine on a fresh empty cache directory (cloner probes) + initdb + an empty snapshot + branch + pg connect + "select 1" ` +
        `(documents does not exist). A lower bound for any fresh cluster. ${n} samples (min(iterations, 3)).`,
    }),
  );
}

/** A fresh cluster per sample with the fixture seeded into it: what a suite without snapshots pays. */
export async function initdbFixture(run: RunContext): Promise<void> {
  const { ctx } = run;
  const n = Math.min(ctx.iterations, 3);
  const method = 'initdb + start + load fixture';
  const samples = await run.sampleLoop(method, n, async (defer, i) => {
    const { engine, release } = await run.engine(path.join(ctx.workDir, `peers-fresh-fixture-${i}`));
    defer(release);
    const snap = await engine.snapshot({ name: 'sync-store', sql: [run.fixtureDir] });
    const branch = await snap.branch();
    defer(() => branch.destroy());
    await queryOnce(branch.connectionOptions(), defer);
  });
  run.results.push(
    methodResult(method, samples, {
      note:
        `What a suite without snapshots pays per run: fresh cache directory each sample, createEngine + initdb + seed the fixture ` +
        `(engine.snapshot, which also checkpoints, stops and keeps the seeded cluster) + branch + pg connect + query. ${n} samples (min(iterations, 3)).`,
    }),
  );
}
