/**
 * Every error pgbranch throws is a `PgbranchError` with a stable `code`, the underlying error as `cause`,
 * and a message that names the snapshot, branch or file involved and says what to do next.
 */
export class PgbranchError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A SQL file of a recipe failed while seeding a snapshot. Nothing was cached. */
export class SeedError extends PgbranchError {
  constructor(
    message: string,
    readonly file: string,
    readonly line: number | undefined,
    readonly position: number | undefined,
    options?: { cause?: unknown },
  ) {
    super('PGBRANCH_SEED_FAILED', message, options);
  }
}

/** The Postgres binaries could not be found or do not run. */
export class BinariesNotFoundError extends PgbranchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PGBRANCH_BINARIES_NOT_FOUND', message, options);
  }
}

/**
 * Postgres binaries are installed but cannot run here (a shared library the loader cannot find, another
 * CPU or C library). The message quotes the loader and gives the command that fixes it. `driver: 'auto'`
 * does not fall back to Docker on this error: the binaries are there and need fixing.
 */
export class BinariesUnusableError extends PgbranchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PGBRANCH_BINARIES_UNUSABLE', message, options);
  }
}

/** `driver: 'auto'` found no way to run Postgres: no local binaries and no usable Docker. Names both reasons. */
export class NoPostgresError extends PgbranchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PGBRANCH_NO_POSTGRES', message, options);
  }
}

/** A Postgres server did not start; the message carries the tail of its log. */
export class ServerStartError extends PgbranchError {
  constructor(message: string, readonly logTail: string, options?: { cause?: unknown }) {
    super('PGBRANCH_SERVER_START_FAILED', message, options);
  }
}

/** The requested cloner cannot work on this cache directory. */
export class ClonerUnavailableError extends PgbranchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PGBRANCH_CLONER_UNAVAILABLE', message, options);
  }
}

/** A copy-on-write clone or its removal failed (disk full, permissions, …). */
export class CloneError extends PgbranchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PGBRANCH_CLONE_FAILED', message, options);
  }
}

/** An operation was called on a branch or engine that was already destroyed, or with bad arguments. */
export class UsageError extends PgbranchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PGBRANCH_USAGE', message, options);
  }
}

/** The cache directory cannot be used (not writable, unreachable by the server user, full). */
export class CacheDirError extends PgbranchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PGBRANCH_CACHE_DIR', message, options);
  }
}

/**
 * A path pgbranch was about to create, hand over or change permissions of is not its own (a symlink, or a
 * directory another user made): refused rather than followed.
 */
export class UnsafePathError extends PgbranchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PGBRANCH_UNSAFE_PATH', message, options);
  }
}

/** Short, human reason of an unknown error, for messages. */
export function describeCause(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return typeof code === 'string' && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/** Adds the next step to take for common system errors (full disk, permissions). */
export function hintFor(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC') return ' The disk is full: `pgbranch rm` branches you no longer need and run `pgbranch gc` (both work on a full disk), free other space, or point PGBRANCH_CACHE_DIR elsewhere.';
  if (code === 'EACCES' || code === 'EPERM') return ' Check the permissions of the cache directory (PGBRANCH_CACHE_DIR).';
  if (code === 'EROFS') return ' It is on a read-only filesystem: `pgbranch ls` and `pgbranch url` work there; for anything else point PGBRANCH_CACHE_DIR at a writable directory.';
  return '';
}

/** A named branch cannot serve: its creation or removal was interrupted (or is still under way). */
export class BranchBrokenError extends PgbranchError {
  constructor(message: string) {
    super('PGBRANCH_BRANCH_BROKEN', message);
  }
}

/**
 * A snapshot archive (`pgbranch snapshot export`) cannot be read: missing, not a pgbranch archive, an unknown format,
 * or damaged (truncated, a digest that does not match, an entry outside `data/`). Nothing was stored.
 */
export class SnapshotArchiveError extends PgbranchError {
  constructor(
    code: 'PGBRANCH_ARCHIVE_CORRUPT' | 'PGBRANCH_ARCHIVE_INVALID' | 'PGBRANCH_ARCHIVE_FORMAT' | 'PGBRANCH_ARCHIVE_NOT_FOUND',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/**
 * A snapshot archive was written by another Postgres build than the one the importing driver runs (its data files
 * would not work): says which builds, and to seed the snapshot here or use the same build.
 */
export class SnapshotIncompatibleError extends PgbranchError {
  constructor(message: string) {
    super('PGBRANCH_SNAPSHOT_INCOMPATIBLE', message);
  }
}

/** No stored snapshot has the name or hash asked for; the message lists those that exist. */
export class SnapshotNotFoundError extends PgbranchError {
  constructor(message: string) {
    super('PGBRANCH_SNAPSHOT_NOT_FOUND', message);
  }
}

/**
 * The snapshot registry could not be used (unreachable, refused the credentials, no docker CLI, a broken image).
 * Engines never fail on it: they warn with this message and seed the snapshot locally.
 */
export class RegistryError extends PgbranchError {}

// ---- diff and merge ----

/** A merge found rows or schema objects changed differently on both sides; nothing was applied. */
export class MergeConflictError extends PgbranchError {
  constructor(
    message: string,
    readonly conflicts: { rows: import('./diff/types.js').RowConflict[]; schema: import('./diff/types.js').SchemaConflict[] },
  ) {
    super('PGBRANCH_MERGE_CONFLICT', message);
  }
}

// ---- Merge: applying a plan to the target branch ----

/**
 * A merge's rows do not fit the target: a foreign key left without its parent row, a row to update or delete that the
 * target no longer has, a unique or check constraint violated. The transaction was rolled back: nothing was applied.
 * Names the table, the constraint and up to 5 keys (never other row values).
 */
export class MergeConstraintError extends PgbranchError {
  constructor(
    message: string,
    readonly table: string,
    readonly constraint: string | undefined,
    readonly keys: string[],
    options?: { cause?: unknown },
  ) {
    super('PGBRANCH_MERGE_CONSTRAINT', message, options);
  }
}

/** A statement of a merge failed for another reason (its DDL, a lost connection…). Rolled back: nothing was applied. */
export class MergeApplyError extends PgbranchError {
  constructor(
    message: string,
    readonly table: string | undefined,
    readonly statement: string,
    options?: { cause?: unknown },
  ) {
    super('PGBRANCH_MERGE_FAILED', message, options);
  }
}
