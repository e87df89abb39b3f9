import { startRun } from '@pgbranch/core/runner';
import { ADDRESS_ENV, optionsOf, RUN_KEY, TOKEN_ENV } from './options.js';

/** The part of jest's project config global setup reads (the same in jest 29 and 30). */
interface ProjectConfig {
  rootDir: string;
  testEnvironmentOptions?: Record<string, unknown>;
}

/** Seeds or reuses the snapshot and starts the pool server; workers find it through PGBRANCH_POOL_ADDRESS and PGBRANCH_POOL_TOKEN. */
export default async function globalSetup(_globalConfig: unknown, projectConfig: ProjectConfig): Promise<void> {
  const run = await startRun(optionsOf(projectConfig), { root: projectConfig.rootDir, name: 'jest' });
  // Workers start after global setup and inherit the environment.
  process.env[ADDRESS_ENV] = run.address;
  process.env[TOKEN_ENV] = run.token;
  (globalThis as Record<symbol, unknown>)[RUN_KEY] = run;
}
