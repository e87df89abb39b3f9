import { PoolServer } from '@pgbranch/core';
import type { Config } from '@jest/types';
import { ADDRESS_ENV, optionsOf, SERVER_KEY } from './options.js';

/** Seeds or reuses the snapshot and starts the pool server; workers find it through PGBRANCH_POOL_ADDRESS. */
export default async function globalSetup(_globalConfig: Config.GlobalConfig, projectConfig: Config.ProjectConfig): Promise<void> {
  const options = optionsOf(projectConfig);
  const server = await PoolServer.start({
    engine: options,
    recipes: {
      default: { name: options.name ?? 'jest', sql: options.sql, init: options.init, hashInputs: options.hashInputs, baseDir: projectConfig.rootDir },
    },
    pool: options,
  });
  // Workers start after global setup and inherit the environment.
  process.env[ADDRESS_ENV] = server.address;
  (globalThis as Record<symbol, unknown>)[SERVER_KEY] = { server, summary: options.summary ?? true };
}
