import path from 'node:path';
import pg from 'pg';
import { createEngine, type Branch, type Engine } from '@pgbranch/core';
import type { BenchContext } from '../../types.js';
import type { Mode } from './modes.js';

/** The sync-store migrations the generated suite needs (the e2e project's MIGRATIONS). */
const MIGRATIONS = ['001_schema.sql', '002_functions.sql', '004_keys_indexes.sql'];

/** A shared server for the floor and template modes, running for the whole scenario. */
export interface SharedServer {
  /** BENCH_E2E_SHARED for the e2e project's global setup: where the files connect (JSON, with the password). */
  env: string;
  stop(): Promise<void>;
}

/**
 * Starts the one server the floor and the template-database modes share across their runs, migrated before any
 * timing starts: the way a CI service database, pgtestdb or IntegreSQL (whose templates are kept by migration
 * hash across runs) are used. Their timed runs pay only what each file does. A PostgreSQL 18 server of pgbranch's
 * embedded binaries, password auth over TCP 127.0.0.1; template modes get the migrated database `tpl`.
 */
export async function startSharedServer(ctx: BenchContext, mode: Mode): Promise<SharedServer> {
  let engine: Engine | undefined;
  let server: Branch | undefined;
  try {
    engine = await createEngine({ cacheDir: mode.cacheDir, driver: 'local', ...(mode.cloner ? { cloner: mode.cloner } : {}) });
    const sql = MIGRATIONS.map((f) => path.join(ctx.root, 'fixtures/recipes/sync-store', f));
    const snap = await engine.snapshot({ name: 'e2e-shared-server', sql });
    server = await snap.branch();
    const { host, port, user, password } = server.connectionOptions();
    const shared: Record<string, unknown> = { host, port, user, password, database: 'postgres' };
    if (mode.id.startsWith('template-')) {
      const client = new pg.Client({ host, port, user, password, database: 'postgres' });
      await client.connect();
      await client.query('CREATE DATABASE tpl TEMPLATE postgres STRATEGY FILE_COPY').finally(() => client.end());
      shared.template = {
        name: 'tpl',
        strategy: mode.id === 'template-wal-log' ? 'WAL_LOG' : 'FILE_COPY',
        ...(mode.id === 'template-clone' ? { fileCopyMethod: 'clone' } : {}),
      };
    }
    const running = { engine, server };
    return {
      env: JSON.stringify(shared),
      stop: async () => {
        await running.server.destroy().catch(() => undefined);
        await running.engine.close();
      },
    };
  } catch (err) {
    await server?.destroy().catch(() => undefined);
    await engine?.close();
    throw err;
  }
}
