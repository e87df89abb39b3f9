import { DEFAULT_TEARDOWN_TIMEOUT_MS, PoolServer, runSummary } from '@pgbranch/core';
import type { TestProject } from 'vitest/node';
import { loadOptions, type PgbranchProvided } from './options.js';

/** Seeds or reuses the snapshot, starts the pool server, and tears it down (with a summary) after the run. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const options = loadOptions();
  const root = project.config.root;
  const server = await PoolServer.start({
    engine: options,
    recipes: { default: { name: options.name ?? 'vitest', sql: options.sql, init: options.init, hashInputs: options.hashInputs, baseDir: root } },
    pool: options,
    teardownTimeout: options.teardownTimeout,
  });
  const [snapshot] = server.snapshotInfo();
  const provided: PgbranchProvided = {
    address: server.address,
    key: 'default',
    isolation: options.isolation ?? 'file',
    keepOnFailure: options.keepOnFailure ?? false,
    env: options.env ?? 'all',
    teardownTimeout: options.teardownTimeout ?? DEFAULT_TEARDOWN_TIMEOUT_MS,
    root,
    snapshot: { name: snapshot!.name, hash: snapshot!.hash, reused: snapshot!.reused },
  };
  project.provide('pgbranch', provided);

  return async () => {
    const { summary, kept } = runSummary(server);
    await server.close();
    const lines = [...(summary && (options.summary ?? true) ? [summary] : []), ...kept];
    process.stdout.write(lines.map((l) => l + '\n').join(''));
  };
}
