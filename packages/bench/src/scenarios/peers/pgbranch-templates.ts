import path from 'node:path';
import pg from 'pg';
import type { Branch } from '@pgbranch/core';
import { methodResult } from '../../stats.js';
import type { RunContext } from './run-context.js';
import { queryOnce } from './support.js';

/** The start of pgbranch's own method label; the ratio notes divide by this method's p50. */
export const PGBRANCH = 'pgbranch branch';

/** pgbranch, and template databases (WAL_LOG, FILE_COPY) on one pgbranch server. */
export async function pgbranchAndTemplates(run: RunContext): Promise<void> {
  const { ctx } = run;
  const { engine, release } = await run.engine(path.join(ctx.workDir, 'peers'));
  const info = engine.info();
  ctx.progress('peers: seeding sync-store snapshot');
  const snap = await engine.snapshot({ name: 'sync-store', sql: [run.fixtureDir] });
  run.notes.push(
    `PostgreSQL ${info.postgresVersion} (${info.binariesFrom}); sync-store snapshot ${(snap.sizeBytes / 1e6).toFixed(0)} MB; ` +
      `pgbranch cache in ${ctx.workDir} → cloner ${info.cloner} (${info.clonerReason}).`,
  );

  const samples = await run.sampleLoop(`pgbranch (${info.cloner})`, ctx.iterations, async (defer) => {
    const branch = await snap.branch();
    defer(() => branch.destroy());
    await queryOnce(branch.connectionOptions(), defer);
  });
  run.results.push(
    methodResult(`${PGBRANCH} (local, ${info.cloner})`, samples, {
      note: `createEngine({ cacheDir }) on the work disk, cloner ${info.cloner}; snap.branch() + pg connect over TCP + query; branch.destroy() untimed.`,
    }),
  );

  // Template databases (IntegreSQL / pgtestdb): one running server, a template database, CREATE DATABASE per test.
  const server = await snap.branch({ name: 'template-server' });
  run.finalizers.push(() => server.destroy());
  const major = await templateServer(run, server, 'fixture_tpl', `on the ${info.cloner} branch`);
  for (const strategy of ['WAL_LOG', 'FILE_COPY'] as const) {
    await run.attempt(`CREATE DATABASE … STRATEGY ${strategy}`, () =>
      templateMethod(run, server, strategy, undefined, `on one pgbranch branch (${info.cloner} cache on the work disk) used as the server`),
    );
  }
  if (major < 18) run.notes.push(`file_copy_method = clone: needs PostgreSQL 18 (server is ${major}).`);
  await server.destroy();
  await release();
}

/** FILE_COPY with file_copy_method = clone, on a template server whose data directory is on a reflink filesystem. */
export async function fileCopyClone(run: RunContext): Promise<void> {
  const { ctx } = run;
  const label = 'CREATE DATABASE … STRATEGY FILE_COPY, file_copy_method = clone';
  if (!ctx.reflinkDir) {
    run.notes.push(`${label}: skipped — no reflink filesystem (ctx.reflinkDir / PGBRANCH_TEST_REFLINK_DIR unset); clone only helps when the data directory is on one.`);
    return;
  }
  const { engine, release } = await run.engine(path.join(ctx.reflinkDir, run.tag));
  const info = engine.info();
  ctx.progress('peers: seeding sync-store snapshot on the reflink filesystem');
  const snap = await engine.snapshot({ name: 'sync-store', sql: [run.fixtureDir] });
  const server = await snap.branch({ name: 'template-server-reflink' });
  run.finalizers.push(() => server.destroy());
  const major = await templateServer(run, server, 'fixture_tpl', `on the ${info.cloner} branch in ${ctx.reflinkDir}`);
  if (major < 18) {
    run.notes.push(`${label}: skipped — file_copy_method needs PostgreSQL 18 (server is ${major}).`);
  } else {
    await templateMethod(run, server, 'FILE_COPY', 'clone', `on one pgbranch branch whose data directory is on ${ctx.reflinkDir} (cloner ${info.cloner})`);
  }
  await server.destroy();
  await release();
}

/** Makes `name` a copy of the branch's `postgres` database (which holds the fixture); returns the server's major version. */
async function templateServer(run: RunContext, server: Branch, name: string, where: string): Promise<number> {
  // Connected to template1: the source of CREATE DATABASE must have no other sessions.
  const admin = new pg.Client({ ...server.connectionOptions(), database: 'template1' });
  await admin.connect();
  try {
    const t = performance.now();
    await admin.query(`CREATE DATABASE ${name} TEMPLATE postgres`);
    run.notes.push(`template database ${name} ${where} (CREATE DATABASE … TEMPLATE postgres, once, untimed): ${(performance.now() - t).toFixed(0)} ms.`);
    const { rows } = await admin.query<{ v: string }>('SHOW server_version_num');
    return Math.floor(Number(rows[0]!.v) / 10000);
  } finally {
    await admin.end();
  }
}

/** CREATE DATABASE tNN TEMPLATE fixture_tpl STRATEGY … + connect to it + query, per sample; DROP untimed. */
async function templateMethod(
  run: RunContext,
  server: Branch,
  strategy: 'WAL_LOG' | 'FILE_COPY',
  fileCopyMethod: 'clone' | undefined,
  where: string,
): Promise<void> {
  const label = `CREATE DATABASE … STRATEGY ${strategy}${fileCopyMethod ? `, file_copy_method = ${fileCopyMethod}` : ''}`;
  // The test harness's long-lived admin connection (IntegreSQL keeps one), opened outside the timing.
  const admin = new pg.Client({ ...server.connectionOptions(), database: 'template1' });
  await admin.connect();
  try {
    if (fileCopyMethod) await admin.query(`SET file_copy_method = ${fileCopyMethod}`);
    const prefix = `t_${strategy.toLowerCase()}${fileCopyMethod ? `_${fileCopyMethod}` : ''}`;
    const samples = await run.sampleLoop(label, run.ctx.iterations, async (defer, i) => {
      const db = `${prefix}_${i}`;
      await admin.query(`CREATE DATABASE ${db} TEMPLATE fixture_tpl STRATEGY ${strategy}`);
      defer(() => admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`));
      await queryOnce({ ...server.connectionOptions(), database: db }, defer);
    });
    run.results.push(
      methodResult(label, samples, {
        note:
          `Template database (IntegreSQL/pgtestdb approach) ${where}: fixture_tpl copied once from the fixture, then per sample ` +
          `CREATE DATABASE tNN TEMPLATE fixture_tpl STRATEGY ${strategy}${fileCopyMethod ? ` with SET file_copy_method = ${fileCopyMethod}` : ''} ` +
          `over an open admin connection + pg connect to tNN + query; DROP DATABASE … WITH (FORCE) untimed. Databases share one server (not process-isolated).`,
      }),
    );
  } finally {
    await admin.end();
  }
}
