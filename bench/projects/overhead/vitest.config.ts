import { defineConfig } from 'vitest/config';
import { pgbranch } from '@pgbranch/vitest';

// The same generated suite runs with the plugin (BENCH_PGBRANCH=1) and without it.
export default defineConfig({
  plugins: process.env.BENCH_PGBRANCH ? [pgbranch({ name: 'sync-store', sql: ['../../../fixtures/recipes/sync-store'], summary: true, prewarm: process.env.BENCH_PREWARM !== '0' })] : [],
  test: { include: ['generated/**/*.test.ts'], maxWorkers: 2 },
});
