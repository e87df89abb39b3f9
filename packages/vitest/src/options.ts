import type { RunnerOptions, RunnerSettings } from '@pgbranch/core/runner';

/** Options of the pgbranch vitest plugin. All optional except a way to build the schema (`sql` and/or `init`). */
export type PgbranchVitestOptions = RunnerOptions;

/** What the global setup provides to test workers (`inject('pgbranch')`). */
export interface PgbranchProvided extends RunnerSettings {
  address: string;
  /** The pool server's token: the workers present it on connecting (vitest hands it only to them). */
  token: string;
  key: string;
  /** The project root, to name files relative to it in messages. */
  root: string;
  snapshot: { name: string; hash: string; reused: boolean; origin: 'built' | 'cache' | 'registry' | 'archive' };
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
