import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MIGRATIONS } from './migrations.js';

/** What a generated test file needs from its database. */
export interface Db {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const migrations = () => MIGRATIONS.map((f) => readFileSync(path.join(here, f), 'utf8'));

/**
 * This file's own database, the way each method gives one:
 * - pgbranch-local / pgbranch-docker: the branch pgbranch leased to the file (DATABASE_URL);
 * - testcontainers: a new container per file, migrations run by the file;
 * - pglite: a new in-process PGlite per file, migrations run by the file;
 * - none: no database (the baseline the per-file overhead is measured against).
 */
export async function openDb(): Promise<Db | undefined> {
  switch (process.env.BENCH_E2E_MODE ?? 'none') {
    case 'pgbranch-local':
    case 'pgbranch-docker':
      return pgClient({ connectionString: process.env.DATABASE_URL });
    case 'testcontainers':
      return testcontainer();
    case 'pglite':
      return pglite();
    default:
      return undefined;
  }
}

async function pgClient(config: import('pg').ClientConfig, onClose: () => Promise<unknown> = async () => undefined): Promise<Db> {
  const { default: pg } = await import('pg');
  const client = new pg.Client(config);
  client.on('error', () => undefined);
  await client.connect();
  return {
    query: async <T>(text: string, params?: unknown[]) => (await client.query(text, params)).rows as T[],
    close: async () => {
      await client.end();
      await onClose();
    },
  };
}

async function testcontainer(): Promise<Db> {
  // The same container set-up as the peers scenario's (one definition, so the two measure the same peer).
  const { startPeerContainer } = await import('@pgbranch/bench/peer-container');
  const { container, port } = await startPeerContainer(process.env.BENCH_E2E_IMAGE ?? 'pgbranch-test/postgres:18', process.env.BENCH_E2E_LABEL ?? 'e2e');
  const db = await pgClient({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' }, () => container.stop({ timeout: 1, remove: true }));
  for (const sql of migrations()) {
    await db.query('BEGIN');
    await db.query(sql);
    await db.query('COMMIT');
  }
  return db;
}

async function pglite(): Promise<Db> {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = new PGlite();
  await db.waitReady;
  for (const sql of migrations()) {
    await db.exec('BEGIN');
    await db.exec(sql);
    await db.exec('COMMIT');
  }
  return {
    query: async <T>(text: string, params?: unknown[]) => (await db.query<T>(text, params)).rows,
    close: () => db.close(),
  };
}
