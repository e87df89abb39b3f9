import { PoolServer } from '@pgbranch/core';
import { ADDRESS_ENV, optionsOf, SERVER_KEY, TOKEN_ENV } from './options.js';

/** Seeds or reuses the snapshot and starts the pool server; workers find it through PGBRANCH_POOL_ADDRESS and PGBRANCH_POOL_TOKEN. */
/** The part of jest's project config global setup reads (the same in jest 29 and 30). */
interface ProjectConfig {
  rootDir: string;
  testEnvironmentOptions?: Record<string, unknown>;
}

export default async function globalSetup(_globalConfig: unknown, projectConfig: ProjectConfig): Promise<void> {
  const options = optionsOf(projectConfig);
  const server = await PoolServer.start({
    engine: options,
    recipes: {
      default: { name: options.name ?? 'jest', sql: options.sql, init: options.init, hashInputs: options.hashInputs, baseDir: projectConfig.rootDir },
    },
    pool: options,
    teardownTimeout: options.teardownTimeout,
  });
  // Workers start after global setup and inherit the environment.
  process.env[ADDRESS_ENV] = server.address;
  process.env[TOKEN_ENV] = server.token;
  (globalThis as Record<symbol, unknown>)[SERVER_KEY] = { server, summary: options.summary ?? true };
}
