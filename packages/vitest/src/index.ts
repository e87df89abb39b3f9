import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vitest/config';
import { storeOptions, type PgbranchVitestOptions } from './options.js';

export type { PgbranchVitestOptions, PgbranchProvided } from './options.js';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** This package's and @pgbranch/core's built files. */
const OWN_DIST_DIRS = [path.dirname(here('./index.js')), path.dirname(fileURLToPath(import.meta.resolve('@pgbranch/core/client')))].map((d) => d + path.sep);
const toArray = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * Gives every test file its own PostgreSQL branch. The snapshot is seeded once (or reused from the
 * cache) in global setup, a pool server keeps branches warm, and each file leases one before its
 * module is imported, so `process.env.DATABASE_URL` is right even at module top level.
 */
export function pgbranch(options: PgbranchVitestOptions = {}): Plugin {
  storeOptions(options);
  return {
    name: 'pgbranch',
    config(config) {
      const test = (config.test ??= {});
      test.globalSetup = [here('./global-setup.js'), ...toArray(test.globalSetup)];
      // First, so the user's own setup files already see DATABASE_URL.
      test.setupFiles = [here('./setup-file.js'), ...toArray(test.setupFiles)];
      // Load pgbranch natively once per worker instead of through vitest's module runner for every
      // file (it matters when the packages resolve outside node_modules, as in a workspace).
      // A snapshot seeded in this run is pushed to the registry when the run ends; vitest's default 10 s
      // teardown timeout would cut a push of a large snapshot short.
      const registry = options.registry ?? (process.env.PGBRANCH_REGISTRY || undefined);
      if (registry && test.teardownTimeout === undefined) test.teardownTimeout = 15 * 60_000;
      const deps = ((test.server ??= {}).deps ??= {});
      deps.external = [...(deps.external ?? []), ...OWN_DIST_DIRS.map((dir) => new RegExp('^' + escapeRegExp(dir)))];
    },
  };
}
