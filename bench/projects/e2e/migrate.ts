import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MIGRATIONS } from './migrations.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The migrations' SQL, in order. */
export const migrations = (): string[] => MIGRATIONS.map((f) => readFileSync(path.join(here, f), 'utf8'));

/** Runs every migration in its own transaction, through whatever `exec` sends SQL (pg or PGlite). */
export async function migrate(exec: (sql: string) => Promise<unknown>): Promise<void> {
  for (const sql of migrations()) {
    await exec('BEGIN');
    await exec(sql);
    await exec('COMMIT');
  }
}
