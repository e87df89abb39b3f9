import type pg from 'pg';
import { SeedError } from '../errors.js';
import type { RecipeFile } from './recipe.js';
import { lineAndColumn, splitSql } from './sql-split.js';
import { readSqlText } from './sql-text.js';

const NO_TRANSACTION = /^\s*--\s*pgbranch:\s*no-transaction\b/i;

/**
 * Runs one SQL file statement by statement, inside one transaction unless the file opts out.
 * Running statements one at a time lets a failure name the exact line even for errors
 * Postgres reports without a position (a constraint violation, an error raised by a function).
 */
export async function runSqlFile(client: pg.Client, file: RecipeFile, snapshotName: string): Promise<void> {
  const text = await readSqlText(file, snapshotName);
  const inTransaction = !NO_TRANSACTION.test(text);
  if (inTransaction) await client.query('BEGIN');
  for (const statement of splitSql(text)) {
    try {
      await client.query(statement.text);
    } catch (err) {
      if (inTransaction) await client.query('ROLLBACK').catch(() => undefined);
      throw seedError(err, text, statement.offset, file, snapshotName);
    }
  }
  if (inTransaction) await client.query('COMMIT');
}

function seedError(err: unknown, text: string, statementOffset: number, file: RecipeFile, snapshotName: string): SeedError {
  const pgErr = err as pg.DatabaseError;
  const position = pgErr.position ? Number(pgErr.position) : undefined;
  const offset = statementOffset + (position ? position - 1 : 0);
  const { line, column } = lineAndColumn(text, offset);
  const source = text.split('\n')[line - 1] ?? '';
  const where = position ? `${file.display}:${line}:${column}` : `${file.display}:${line} (statement starting here)`;
  const extra = [pgErr.detail && `DETAIL: ${pgErr.detail}`, pgErr.hint && `HINT: ${pgErr.hint}`, pgErr.where && `CONTEXT: ${pgErr.where}`]
    .filter(Boolean)
    .join('\n');
  const pointer = position ? `\n  ${source}\n  ${' '.repeat(Math.max(0, column - 1))}^` : `\n  ${source}`;
  return new SeedError(
    `Snapshot "${snapshotName}" failed at ${where}: ${pgErr.message}${extra ? '\n' + extra : ''}${pointer}\n` +
      'Nothing was cached. Fix the file and run again.',
    file.path,
    line,
    position,
    { cause: err },
  );
}
