import type { PGlite } from '@electric-sql/pglite';
import { migrate } from './migrate.js';
import { pgDb, type Db } from './pg-db.js';

/** testcontainers: a new container per file, migrations run by the file, stopped when the file ends. */
export async function containerPerFile(): Promise<Db> {
  // The same container set-up as the peers scenario's (one definition, so the two measure the same peer).
  const { startPeerContainer } = await import('@pgbranch/bench/peer-container');
  const { container, port } = await startPeerContainer(process.env.BENCH_E2E_IMAGE ?? 'pgbranch-test/postgres:18', process.env.BENCH_E2E_LABEL ?? 'e2e');
  const db = await pgDb({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' }, () => container.stop({ timeout: 1, remove: true }));
  await migrate((sql) => db.query(sql));
  return db;
}

/** pglite: a new in-process PGlite per file, migrations run by the file. */
export async function pglitePerFile(): Promise<Db> {
  return pgliteDb(await migratedPglite());
}

const BASE = Symbol.for('bench.e2e.pglite-base');

/**
 * pglite-clone: one migrated PGlite per worker process (kept on globalThis, which survives the files of a worker),
 * each file works on `await base.clone()` — PGlite 0.5 implements clone() as dumpDataDir() + a new PGlite loaded
 * from that dump.
 */
export async function pgliteClone(): Promise<Db> {
  const slot = globalThis as { [BASE]?: Promise<PGlite> };
  const base = await (slot[BASE] ??= migratedPglite());
  return pgliteDb((await base.clone()) as PGlite);
}

async function migratedPglite(): Promise<PGlite> {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = new PGlite();
  await db.waitReady;
  await migrate((sql) => db.exec(sql));
  return db;
}

function pgliteDb(db: PGlite): Db {
  return {
    query: async <T>(text: string, params?: unknown[]) => (await db.query<T>(text, params)).rows,
    close: () => db.close(),
  };
}
