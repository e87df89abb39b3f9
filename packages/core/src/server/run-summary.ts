import type { PoolServer } from './pool-server.js';

/**
 * What a test runner prints when its run ends: one summary line, and a line per kept branch
 * (shown without its password). Read it before the server closes.
 */
export function runSummary(server: PoolServer, key = 'default'): { summary: string | undefined; kept: string[] } {
  const stats = server.stats();
  const pool = stats.pools[key];
  const snapshot = server.snapshotInfo().find((s) => s.key === key);
  let summary: string | undefined;
  if (pool && snapshot) {
    summary = (
      `pgbranch: ${stats.holders} files, ${stats.leasesServed} branches leased, lease wait median ${pool.acquireMs.p50.toFixed(2)} ms ` +
        `(p95 ${pool.acquireMs.p95.toFixed(2)} ms), snapshot ${snapshot.name} ${snapshot.reused ? 'reused' : 'built'} ` +
        `(${snapshot.hash.slice(0, 12)}), cloner ${server.engine.info().cloner}`
    );
  }
  const kept = server.kept.map(
    (k) =>
      `pgbranch: kept branch ${k.branch} (${k.reason}): ${k.redactedUrl} — password in the cache directory's "secret" file` +
      (k.socketDir ? `, or psql -h ${k.socketDir} -p ${k.port} -U postgres` : '') +
      '. Remove with: pgbranch gc',
  );
  return { summary, kept };
}
