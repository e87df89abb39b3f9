import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrate } from './migrate.js';
import type { SharedServer } from './modes.js';

/**
 * The modes with one server for the whole run: start it, run the migrations once, hand its address to the files
 * (or only hand it over, when the benchmark started it before timing: BENCH_E2E_SHARED).
 * - floor / template-*: a real PostgreSQL 18 server (pgbranch's embedded binaries, started through pgbranch as a
 *   plain server from an empty initdb snapshot), password auth over TCP 127.0.0.1 like a CI database;
 * - testcontainers-shared: one Testcontainers container.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const mode = process.env.BENCH_E2E_MODE ?? 'none';
  // The benchmark starts and migrates the floor's and the template modes' server before timing (BENCH_E2E_SHARED).
  if (process.env.BENCH_E2E_SHARED) {
    project.provide('e2eServer', JSON.parse(process.env.BENCH_E2E_SHARED) as SharedServer);
    return async () => undefined;
  }
  if (mode === 'testcontainers-shared') return sharedContainer(project);
  return sharedPostgres(project, mode);
}

async function sharedPostgres(project: TestProject, mode: string): Promise<() => Promise<void>> {
  const { createEngine } = await import('@pgbranch/core');
  const cloner = process.env.BENCH_E2E_CLONER as 'reflink' | undefined;
  const engine = await createEngine({ cacheDir: process.env.BENCH_E2E_CACHE_DIR, driver: 'local', ...(cloner ? { cloner } : {}) });
  try {
    const snap = await engine.snapshot({ name: 'e2e-empty-server', sql: [] });
    const server = await snap.branch();
    const { host, port, user, password } = server.connectionOptions();
    const shared: SharedServer = { host, port, user, password, database: 'postgres' };
    if (mode === 'floor') {
      await withClient({ ...shared }, (c) => migrate((sql) => c.query(sql)));
    } else {
      shared.template = {
        name: 'tpl',
        strategy: mode === 'template-wal-log' ? 'WAL_LOG' : 'FILE_COPY',
        ...(mode === 'template-clone' ? { fileCopyMethod: 'clone' as const } : {}),
      };
      await withClient({ ...shared }, (c) => c.query('CREATE DATABASE tpl'));
      await withClient({ ...shared, database: 'tpl' }, (c) => migrate((sql) => c.query(sql)));
    }
    project.provide('e2eServer', shared);
    return async () => {
      await server.destroy();
      await engine.close();
    };
  } catch (err) {
    await engine.close();
    throw err;
  }
}

async function sharedContainer(project: TestProject): Promise<() => Promise<void>> {
  const { startPeerContainer } = await import('@pgbranch/bench/peer-container');
  const { container, port } = await startPeerContainer(process.env.BENCH_E2E_IMAGE ?? 'pgbranch-test/postgres:18', process.env.BENCH_E2E_LABEL ?? 'e2e');
  const shared: SharedServer = { host: '127.0.0.1', port, user: 'postgres', database: 'postgres' };
  try {
    await withClient({ ...shared }, (c) => migrate((sql) => c.query(sql)));
  } catch (err) {
    await container.stop({ timeout: 1, remove: true });
    throw err;
  }
  project.provide('e2eServer', shared);
  return async () => {
    await container.stop({ timeout: 1, remove: true });
  };
}

async function withClient<T>(config: pg.ClientConfig, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(config);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
