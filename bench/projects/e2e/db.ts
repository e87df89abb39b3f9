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
  const { GenericContainer, Wait } = await import('testcontainers');
  const { defaultSettings } = await import('@pgbranch/core');
  const image = process.env.BENCH_E2E_IMAGE ?? 'pgbranch-test/postgres:18';
  const major = Number(/:(\d+)(?:$|[.-])/.exec(image)?.[1] ?? 0);
  const settings = Object.entries(defaultSettings(major)).map(([k, v]) => `-c ${k}=${v}`).join(' ');
  const port = await freePort();
  const container = await new GenericContainer(image)
    .withNetworkMode('host')
    .withUser('postgres')
    .withLabels({ 'pgbranch.bench': process.env.BENCH_E2E_LABEL ?? 'e2e' })
    .withCommand([
      'sh',
      '-c',
      `initdb -D /tmp/d -U postgres --auth=trust --encoding=UTF8 --locale=C --wal-segsize=1 >/dev/null && ` +
        `exec postgres -D /tmp/d -p ${port} -c listen_addresses=127.0.0.1 ${settings}`,
    ])
    .withWaitStrategy(Wait.forLogMessage(/ready to accept connections/))
    .withStartupTimeout(120_000)
    .start();
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

/** A loopback port the kernel just handed out and took back (postgres binds it next). */
async function freePort(): Promise<number> {
  const net = await import('node:net');
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (server.address() as import('node:net').AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
