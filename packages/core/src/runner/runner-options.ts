import type { SnapshotRequest } from '../engine/engine.js';
import type { EngineOptions } from '../options.js';
import type { PoolOptions } from '../pool/pool.js';
import { DEFAULT_TEARDOWN_TIMEOUT_MS } from '../server/protocol.js';
import type { LeaseEnvOption } from './lease-env.js';

/** Options the test runner integrations share (vitest plugin, jest `testEnvironmentOptions.pgbranch`). */
export interface RunnerOptions extends EngineOptions, PoolOptions {
  /** SQL files or directories (relative to the project root), run in order to seed the snapshot. */
  sql?: string[];
  /** Runs after the SQL files with the seeding server's URL (Prisma, Drizzle, knex migrations…). */
  init?: SnapshotRequest['init'];
  /** Files or directories `init` reads, so changes reseed the snapshot. */
  hashInputs?: string[];
  /** Snapshot name shown in progress and summaries. @default the runner's name */
  name?: string;
  /** A fresh branch per test file ('file') or per test ('test'). @default 'file' */
  isolation?: 'file' | 'test';
  /** Keep a failed file's (or test's) branch running after the run and print how to reach it. @default false */
  keepOnFailure?: boolean;
  /**
   * Print what a failed file (or test) changed in its branch, in one line (`accounts: +2 rows; schema: +index …`),
   * read before the branch is kept or destroyed. With or without `keepOnFailure`. Reading it takes a moment per
   * failed file (at most 10 s; then `diff unavailable: …`); it never fails the run. @default false
   */
  diffOnFailure?: boolean;
  /** Print a one-line summary at the end of the run. @default true */
  summary?: boolean;
  /**
   * When a file (or test) ends, how long to wait for its client connections to close before its branch
   * is destroyed; connections still open then are ended, with a warning naming the file. @default 2000
   */
  teardownTimeout?: number;
  /**
   * Variables each file gets: `'all'` (DATABASE_URL and PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE),
   * `'url'` (DATABASE_URL only), or `{ url: 'TEST_DATABASE_URL', pg: false }` for another name. @default 'all'
   */
  env?: LeaseEnvOption;
}

/** What every test file of a run works with: the runner options' per-file part, defaults applied. */
export interface RunnerSettings {
  isolation: 'file' | 'test';
  keepOnFailure: boolean;
  diffOnFailure: boolean;
  /** Which variables each file gets. */
  env: LeaseEnvOption;
  /** How long a released branch waits for the file's connections to close, in ms. */
  teardownTimeout: number;
}

/** The per-file settings of runner options, with their documented defaults. */
export function runnerSettings(options: RunnerOptions): RunnerSettings {
  return {
    isolation: options.isolation ?? 'file',
    keepOnFailure: options.keepOnFailure ?? false,
    diffOnFailure: options.diffOnFailure ?? false,
    env: options.env ?? 'all',
    teardownTimeout: options.teardownTimeout ?? DEFAULT_TEARDOWN_TIMEOUT_MS,
  };
}
