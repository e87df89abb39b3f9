import type { Db } from './pg-db.js';
import { containerPerFile, pgliteClone, pglitePerFile } from './per-file-db.js';
import { pgDb } from './pg-db.js';
import { rolledBackTransaction, templateDatabase, truncatedSharedDatabase } from './shared-db.js';

export type { Db } from './pg-db.js';

/**
 * This file's own database, the way each mode gives one (BENCH_E2E_MODE):
 * - pgbranch-local / -docker / -template: the branch pgbranch leased to the file (DATABASE_URL);
 * - floor: the run's shared server, the file's work in a transaction rolled back at the end;
 * - template-wal-log / -file-copy / -clone: a database copied from the run's migrated template;
 * - testcontainers-shared: the run's one container, tables truncated before each (serial) file;
 * - testcontainers / pglite: a new container / PGlite per file, migrations run by the file;
 * - pglite-clone: a clone of the worker's migrated PGlite;
 * - none: no database (the baseline).
 */
export async function openDb(): Promise<Db | undefined> {
  switch (process.env.BENCH_E2E_MODE ?? 'none') {
    case 'pgbranch-local':
    case 'pgbranch-docker':
    case 'pgbranch-template':
      return pgDb({ connectionString: process.env.DATABASE_URL });
    case 'floor':
      return rolledBackTransaction();
    case 'template-wal-log':
    case 'template-file-copy':
    case 'template-clone':
      return templateDatabase();
    case 'testcontainers-shared':
      return truncatedSharedDatabase();
    case 'testcontainers':
      return containerPerFile();
    case 'pglite':
      return pglitePerFile();
    case 'pglite-clone':
      return pgliteClone();
    default:
      return undefined;
  }
}
