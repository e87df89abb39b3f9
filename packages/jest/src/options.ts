import type { EngineOptions, PoolOptions, SnapshotRequest } from '@pgbranch/core';

/** `testEnvironmentOptions.pgbranch` in the jest config. Paths are relative to the project's rootDir. */
export interface PgbranchJestOptions extends EngineOptions, PoolOptions {
  /** SQL files or directories run in order to seed the snapshot. */
  sql?: string[];
  /** Runs after the SQL files with the seeding server's URL (jest.config.js only: functions do not survive JSON). */
  init?: SnapshotRequest['init'];
  /** Files or directories `init` reads, so changes reseed the snapshot. */
  hashInputs?: string[];
  /** Snapshot name shown in progress and summaries. @default 'jest' */
  name?: string;
  /** A fresh branch per test file ('file') or per test ('test'). @default 'file' */
  isolation?: 'file' | 'test';
  /** Keep a failed file's (or test's) branch running after the run and print how to reach it. @default false */
  keepOnFailure?: boolean;
  /** Print a one-line summary at the end of the run. @default true */
  summary?: boolean;
}

/** What each test file finds on `globalThis.pgbranch`. */
export interface JestBranch {
  readonly url: string;
  readonly name: string;
  /** Throws away every change: back to the snapshot, on the same URL. */
  reset(): Promise<void>;
}

/** Reads `testEnvironmentOptions.pgbranch` from a project config. */
export function optionsOf(projectConfig: { testEnvironmentOptions?: Record<string, unknown> }): PgbranchJestOptions {
  return (projectConfig.testEnvironmentOptions?.pgbranch as PgbranchJestOptions | undefined) ?? {};
}

/** The variable that tells jest workers where the pool server listens. */
export const ADDRESS_ENV = 'PGBRANCH_POOL_ADDRESS';
export const SERVER_KEY = Symbol.for('pgbranch.jest.server');

declare global {
  // eslint-disable-next-line no-var
  var pgbranch: JestBranch;
}
