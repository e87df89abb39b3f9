import type { EngineOptions, PoolOptions, SnapshotRequest } from '@pgbranch/core';

/** Options of the pgbranch vitest plugin. All optional except a way to build the schema (`sql` and/or `init`). */
export interface PgbranchVitestOptions extends EngineOptions, PoolOptions {
  /** SQL files or directories (relative to the vitest root), run in order to seed the snapshot. */
  sql?: string[];
  /** Runs after the SQL files with the seeding server's URL (Prisma, Drizzle, knex migrations…). */
  init?: SnapshotRequest['init'];
  /** Files or directories `init` reads, so changes reseed the snapshot. */
  hashInputs?: string[];
  /** Snapshot name shown in progress and summaries. @default 'vitest' */
  name?: string;
  /** A fresh branch per test file ('file') or per test ('test'). @default 'file' */
  isolation?: 'file' | 'test';
  /** Keep a failed file's (or test's) branch running after the run and print how to reach it. @default false */
  keepOnFailure?: boolean;
  /** Print a one-line summary at the end of the run. @default true */
  summary?: boolean;
}

/** What the global setup provides to test workers (`inject('pgbranch')`). */
export interface PgbranchProvided {
  address: string;
  key: string;
  isolation: 'file' | 'test';
  keepOnFailure: boolean;
  snapshot: { name: string; hash: string; reused: boolean };
}

const REGISTRY = Symbol.for('pgbranch.vitest.options');

/** The plugin and the global setup run in the same (main) process: options, functions included, pass through here. */
export function storeOptions(options: PgbranchVitestOptions): void {
  (globalThis as Record<symbol, unknown>)[REGISTRY] = options;
}

export function loadOptions(): PgbranchVitestOptions {
  const options = (globalThis as Record<symbol, unknown>)[REGISTRY] as PgbranchVitestOptions | undefined;
  if (!options) throw new Error('@pgbranch/vitest: the global setup ran without the plugin; add pgbranch() to the plugins of your vitest config.');
  return options;
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgbranch: PgbranchProvided;
  }
}
