import { methodResult } from '../../stats.js';
import type { RunContext } from './run-context.js';
import { describe, QUERY } from './support.js';

/** PGlite (PostgreSQL in WASM, in this process): a new instance with the fixture loaded, and clone() of a loaded one. */
export async function pglite(run: RunContext): Promise<void> {
  const { ctx } = run;
  let mod: typeof import('@electric-sql/pglite');
  try {
    mod = await import('@electric-sql/pglite');
  } catch (err) {
    run.notes.push(`PGlite: skipped — @electric-sql/pglite cannot be loaded (${describe(err)}).`);
    return;
  }
  const { PGlite } = mod;
  const load = async (db: InstanceType<typeof PGlite>) => {
    for (const file of run.files) {
      if (file.inTransaction) await db.exec('BEGIN');
      await db.exec(file.text);
      if (file.inTransaction) await db.exec('COMMIT');
    }
  };
  let version = 'unknown';
  try {
    const probe = new PGlite();
    run.finalizers.push(() => probe.closed || probe.close());
    await probe.waitReady;
    version = (await probe.query<{ v: string }>('select version() as v')).rows[0]!.v.replace(/ on wasm32.*$/, '');
    await load(probe);
    await probe.query(QUERY);
    await probe.close();
  } catch (err) {
    run.notes.push(`PGlite: skipped — the sync-store fixture does not load in PGlite: ${describe(err)}`);
    return;
  }

  const fresh = 'PGlite new instance + load fixture';
  const freshSamples = await run.sampleLoop(fresh, ctx.slowIterations, async (defer) => {
    const db = new PGlite();
    defer(() => db.close());
    await db.waitReady;
    await load(db);
    await db.query(QUERY);
  });
  run.results.push(
    methodResult(fresh, freshSamples, {
      note: `${version}: PostgreSQL compiled to WASM, in this Node process, in memory, single connection. new PGlite() + exec each fixture file inside BEGIN/COMMIT + db.query(); close() untimed.`,
    }),
  );

  const base = new PGlite();
  run.finalizers.push(() => base.closed || base.close());
  await base.waitReady;
  await load(base);
  if (typeof (base as { clone?: unknown }).clone !== 'function') {
    run.notes.push(`PGlite clone(): skipped — not in this version (${version}).`);
    return;
  }
  const clone = 'PGlite clone()';
  const cloneSamples = await run.sampleLoop(clone, ctx.slowIterations, async (defer) => {
    const db = await base.clone();
    defer(() => db.close());
    await db.query(QUERY);
  });
  run.results.push(
    methodResult(clone, cloneSamples, {
      note: `${version}: await base.clone() of an in-memory instance with the fixture loaded (loaded once, untimed) + db.query(); close() untimed.`,
    }),
  );
}
