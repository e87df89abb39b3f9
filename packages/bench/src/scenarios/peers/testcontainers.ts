import pg from 'pg';
import { methodResult } from '../../stats.js';
import type { RunContext } from './run-context.js';
import { startPeerContainer } from '../../peer-container.js';
import { QUERY, removeLabelledContainers } from './support.js';

/** A fresh Testcontainers container per sample ("per test file"), with the fixture loaded into it. */
export async function testcontainers(run: RunContext): Promise<void> {
  const { ctx } = run;
  run.notes.push(
    "Testcontainers' own snapshot/restore (@testcontainers/postgresql snapshot()/restoreSnapshot()) is not measured: it needs the official " +
      `postgres image's entrypoint and environment, and there is no image registry here (the only image is ${ctx.docker.image}).`,
  );
  if (!ctx.docker.available) {
    run.notes.push(`Testcontainers fresh container: skipped — Docker not available${ctx.docker.reason ? ` (${ctx.docker.reason})` : ''}.`);
    return;
  }
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true'; // its reaper image would need a registry
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1'; // no bridge network here to find a gateway on
  const label = `pgbranch.bench=${run.tag}`;
  // Whatever testcontainers did or did not stop on an error, no labelled container survives the scenario.
  run.finalizers.push(() => removeLabelledContainers(label));
  const method = 'Testcontainers fresh container + load fixture';
  const samples = await run.sampleLoop(method, ctx.slowIterations, async (defer) => {
    const { container, port } = await startPeerContainer(ctx.docker.image, run.tag);
    defer(() => container.stop({ timeout: 1, remove: true }));
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
    defer(() => client.end());
    await client.connect();
    for (const file of run.files) {
      if (file.inTransaction) await client.query('BEGIN');
      await client.query(file.text);
      if (file.inTransaction) await client.query('COMMIT');
    }
    await client.query(QUERY);
  });
  run.results.push(
    methodResult(method, samples, {
      note:
        `GenericContainer(${ctx.docker.image}), host network, one container per sample ("per test file"): initdb + start postgres ` +
        `(same server settings as pgbranch's) + pg connect + each fixture file sent as one query inside BEGIN/COMMIT + query; ` +
        `container.stop() untimed. Ryuk disabled (no registry).`,
    }),
  );
}
