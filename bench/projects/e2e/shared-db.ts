import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { pgDb, type Db } from './pg-db.js';

/** floor: the shared migrated database; the file's work is one transaction, rolled back when the file ends. */
export async function rolledBackTransaction(): Promise<Db> {
  const { template: _, ...server } = inject('e2eServer');
  const db = await pgDb(server);
  await db.query('BEGIN');
  return { query: db.query, close: () => db.query('ROLLBACK').then(() => db.close()) };
}

/** template-*: CREATE DATABASE f_<id> TEMPLATE tpl STRATEGY … for this file; dropped when the file ends. */
export async function templateDatabase(): Promise<Db> {
  const { template, ...server } = inject('e2eServer');
  const name = `f_${randomBytes(6).toString('hex')}`;
  // The harness's admin connection (to `postgres`: the template itself must have no sessions).
  const admin = await pgDb(server);
  if (template!.fileCopyMethod) await admin.query(`SET file_copy_method = ${template!.fileCopyMethod}`);
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template!.name} STRATEGY ${template!.strategy}`);
  const db = await pgDb({ ...server, database: name });
  return {
    query: db.query,
    close: async () => {
      await db.close();
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
      await admin.close();
    },
  };
}

/** testcontainers-shared: the one container's database, every table truncated before the file runs (files run serially). */
export async function truncatedSharedDatabase(): Promise<Db> {
  const { template: _, ...server } = inject('e2eServer');
  const db = await pgDb(server);
  const tables = await db.query<{ t: string }>(`select format('%I.%I', schemaname, tablename) as t from pg_tables where schemaname = 'public'`);
  if (tables.length > 0) await db.query(`TRUNCATE ${tables.map((r) => r.t).join(', ')} RESTART IDENTITY CASCADE`);
  return db;
}
