import type { RunnerOptions } from '@pgbranch/core/runner';

/** `testEnvironmentOptions.pgbranch` in the jest config. Paths are relative to the project's rootDir. */
export type PgbranchJestOptions = RunnerOptions;

/** What each test file finds on `globalThis.pgbranch`. */
export interface JestBranch {
  readonly url: string;
  readonly name: string;
  /**
   * Throws away every change: back to the snapshot, on the same URL. The server restarts, which ends
   * every open connection (as any restart does): close or re-create pools and clients around it.
   */
  reset(): Promise<void>;
}

/** Reads `testEnvironmentOptions.pgbranch` from a project config. */
export function optionsOf(projectConfig: { testEnvironmentOptions?: Record<string, unknown> }): PgbranchJestOptions {
  return (projectConfig.testEnvironmentOptions?.pgbranch as PgbranchJestOptions | undefined) ?? {};
}

/** The variable that tells jest workers where the pool server listens. */
export const ADDRESS_ENV = 'PGBRANCH_POOL_ADDRESS';
/**
 * The variable that hands jest workers the pool server's token. Each worker takes it out of its
 * environment on first use, so neither test files nor the processes they start inherit it.
 */
export const TOKEN_ENV = 'PGBRANCH_POOL_TOKEN';
/** Where global setup leaves the run for global teardown (both run in jest's main process). */
export const RUN_KEY = Symbol.for('pgbranch.jest.run');

