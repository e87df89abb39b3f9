import type { RunnerOptions } from '@pgbranch/core';

/** `testEnvironmentOptions.pgbranch` in the jest config. Paths are relative to the project's rootDir. */
export type PgbranchJestOptions = RunnerOptions;

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
