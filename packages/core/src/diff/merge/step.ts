import { MergeApplyError, MergeConstraintError, PgbranchError } from '../../errors.js';

/** The fields of a Postgres error (pg's DatabaseError) a merge error may repeat. */
interface DatabaseErrorFields {
  code?: string;
  message: string;
  detail?: string;
  constraint?: string;
}

/**
 * Runs one statement of a merge, turning a Postgres error into a merge error naming the table and the statement kind.
 * Constraint violations (SQLSTATE class 23) become MergeConstraintError. Row values stay out of the message and the
 * cause: Postgres puts them in `detail` ("Failing row contains (…)"), which is kept only for unique violations,
 * whose detail shows the key ("Key (id)=(5) already exists.").
 */
export async function inStep<T>(table: string | undefined, statement: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw asMergeError(err, table, statement);
  }
}

/** A merge error for any failure (PgbranchErrors pass through). */
export function asMergeError(err: unknown, table: string | undefined, statement: string): PgbranchError {
  if (err instanceof PgbranchError) return err;
  const e = (err ?? {}) as Partial<DatabaseErrorFields>;
  const message = typeof e.message === 'string' ? e.message : String(err);
  const where = `${statement}${table ? ` of ${table}` : ''}`;
  const cause = redacted(e, message);
  if (typeof e.code === 'string' && e.code.startsWith('23')) {
    const detail = e.code === '23505' && e.detail ? ` (${e.detail})` : '';
    return new MergeConstraintError(
      `The merge's ${where} failed: ${message}${detail}. Nothing was applied. The target's rows do not allow the source's changes: ` +
        'resolve it on either branch (`pgbranch diff` shows what changed), or merge with --strategy ours|theirs if the rows conflict.',
      table ?? '',
      e.constraint,
      [],
      { cause },
    );
  }
  return new MergeApplyError(`The merge's ${where} failed: ${message}. Nothing was applied.`, table, statement, { cause });
}

/** The error without what may hold row values. */
function redacted(e: Partial<DatabaseErrorFields>, message: string): Error {
  return Object.assign(new Error(message), { code: e.code, constraint: e.constraint });
}
