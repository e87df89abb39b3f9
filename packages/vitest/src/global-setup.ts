import { PoolServer } from '@pgbranch/core';
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
  });
  const [snapshot] = server.snapshotInfo();
  const provided: PgbranchProvided = {
    address: server.address,
    key: 'default',
    isolation: options.isolation ?? 'file',
    keepOnFailure: options.keepOnFailure ?? false,
    snapshot: { name: snapshot!.name, hash: snapshot!.hash, reused: snapshot!.reused },
  };
  project.provide('pgbranch', provided);

  return async () => {
    const stats = server.stats();
    const kept = server.kept;
    const cloner = server.engine.info().cloner;
    await server.close();
    if (options.summary ?? true) {
      const pool = stats.pools.default!;
      process.stdout.write(
        `pgbranch: ${stats.holders} files, ${stats.leasesServed} branches leased, lease wait median ${pool.acquireMs.p50.toFixed(2)} ms ` +
          `(p95 ${pool.acquireMs.p95.toFixed(2)} ms), snapshot ${snapshot!.name} ${snapshot!.reused ? 'reused' : 'built'} ` +
          `(${snapshot!.hash.slice(0, 12)}), cloner ${cloner}\n`,
      );
    }
    for (const k of kept) {
      process.stdout.write(
        `pgbranch: kept branch ${k.branch} (${k.reason}): ${k.redactedUrl} — password in the cache directory's "secret" file, ` +
          `or psql -h ${k.socketDir} -p ${k.port} -U postgres. Remove with: pgbranch gc\n`,
      );
    }
  };
}
