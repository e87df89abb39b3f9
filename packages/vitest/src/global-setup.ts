import { DEFAULT_TEARDOWN_TIMEOUT_MS, PgbranchError, PoolServer, runSummary, type PoolServerOptions } from '@pgbranch/core';
import type { TestProject } from 'vitest/node';
import { loadOptions, type PgbranchProvided } from './options.js';

/** Seeds or reuses the snapshot, starts the pool server, and tears it down (with a summary) after the run. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const options = loadOptions();
  const root = project.config.root;
  const server = await startOrExit({
    engine: options,
    recipes: { default: { name: options.name ?? 'vitest', sql: options.sql, init: options.init, hashInputs: options.hashInputs, baseDir: root } },
    pool: options,
    teardownTimeout: options.teardownTimeout,
  });
  const [snapshot] = server.snapshotInfo();
  const provided: PgbranchProvided = {
    address: server.address,
    token: server.token,
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

/**
 * A failed global setup makes vitest report "No test files found" before the error, which sends people
 * looking in the wrong place. A pgbranch error (a seed file that fails, binaries not found…) already names
 * the file, the statement and what to do: print it alone and end the run with exit code 1. Nothing is
 * left behind: the pool server closed its engine before rethrowing.
 */
async function startOrExit(options: PoolServerOptions): Promise<PoolServer> {
  try {
    return await PoolServer.start(options);
  } catch (err) {
    if (!(err instanceof PgbranchError)) throw err;
    await new Promise<void>((resolve) => process.stderr.write(`\npgbranch: ${err.message}\n\n`, () => resolve()));
    process.exit(1);
  }
}
