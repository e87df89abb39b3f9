import { defineConfig } from 'vitest/config';
import { pgbranch } from '@pgbranch/vitest';
import { MIGRATIONS } from './migrations.js';

// One generated suite, five ways to give its files a database (BENCH_E2E_MODE, see db.ts).
const mode = process.env.BENCH_E2E_MODE ?? 'none';
const cacheDir = process.env.BENCH_E2E_CACHE_DIR;
const image = process.env.BENCH_E2E_IMAGE ?? 'pgbranch-test/postgres:18';

const plugins =
  mode === 'pgbranch-local'
    ? [pgbranch({ name: 'e2e-migrations', sql: MIGRATIONS, cacheDir, driver: 'local' })]
    : mode === 'pgbranch-docker'
      ? [pgbranch({ name: 'e2e-migrations', sql: MIGRATIONS, cacheDir, driver: 'docker', docker: { image, network: 'host' } })]
      : [];

export default defineConfig({
  plugins,
  test: {
    include: ['generated/**/*.test.ts'],
    maxWorkers: 2,
    fileParallelism: true,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
