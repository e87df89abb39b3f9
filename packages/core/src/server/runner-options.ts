import type { SnapshotRequest } from '../engine/engine.js';
import type { EngineOptions } from '../options.js';
import type { PoolOptions } from '../pool/pool.js';

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
  /** Print a one-line summary at the end of the run. @default true */
  summary?: boolean;
}
