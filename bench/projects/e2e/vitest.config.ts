import { defineConfig } from 'vitest/config';
import { pgbranch } from '@pgbranch/vitest';
import { MIGRATIONS } from './migrations.js';
import { SHARED_SERVER_MODES } from './modes.js';

// One generated suite, many ways to give its files a database (BENCH_E2E_MODE, see db.ts).
const mode = process.env.BENCH_E2E_MODE ?? 'none';
const cacheDir = process.env.BENCH_E2E_CACHE_DIR;
const cloner = process.env.BENCH_E2E_CLONER as 'overlay' | 'reflink' | 'btrfs' | 'copy' | undefined;
const image = process.env.BENCH_E2E_IMAGE ?? 'pgbranch-test/postgres:18';
const workers = Number(process.env.BENCH_E2E_WORKERS ?? 2);
const shared = (SHARED_SERVER_MODES as readonly string[]).includes(mode);

const snapshot = { name: 'e2e-migrations', sql: MIGRATIONS, cacheDir, ...(cloner ? { cloner } : {}) };
const plugins =
  mode === 'pgbranch-local'
    ? [pgbranch({ ...snapshot, driver: 'local' })]
    : mode === 'pgbranch-template'
      ? [pgbranch({ ...snapshot, driver: 'template' })]
      : mode === 'pgbranch-docker'
        ? [pgbranch({ ...snapshot, driver: 'docker', docker: { image, network: 'host' } })]
        : [];

export default defineConfig({
  plugins,
  test: {
    include: ['generated/**/*.test.ts'],
    globalSetup: shared ? ['./global-setup.ts'] : [],
    maxWorkers: workers,
    // One database shared by every file, cleaned by TRUNCATE between files: the files must not overlap.
    fileParallelism: mode !== 'testcontainers-shared',
    // pglite-clone keeps one migrated PGlite per worker process: with isolation on, vitest 4 forks a new process per file.
    isolate: mode !== 'pglite-clone',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
