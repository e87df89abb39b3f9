import path from 'node:path';
import { defaultCacheDir } from '../cache/default-cache-dir.js';
import type { KeptBranch, PoolServer } from '../server/pool-server.js';
import type { SnapshotOrigin } from '../branch/branch.js';

/** How the summary line says where the snapshot came from. */
const ORIGIN_WORDS: Record<SnapshotOrigin, string> = { built: 'built', cache: 'reused from the cache', registry: 'pulled from the registry', archive: 'imported' };

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
        `(p95 ${pool.acquireMs.p95.toFixed(2)} ms), snapshot ${snapshot.name} ${ORIGIN_WORDS[snapshot.origin]} ` +
        `(${snapshot.hash.slice(0, 12)}), cloner ${server.engine.info().cloner}`
    );
  }
  return { summary, kept: server.kept.map(keptLine) };
}

/**
 * A kept branch is a named branch: its line gives its name, its URL without the password, and the commands that
 * reach and remove it (with `--cache-dir` unless the CLI would find the cache directory from here by itself).
 */
export function keptLine(k: KeptBranch): string {
  const cacheFlag = k.cacheDir && path.resolve(k.cacheDir) !== defaultCacheDir() ? ` --cache-dir ${k.cacheDir}` : '';
  const expiry = k.expiresAt ? `; \`pgbranch gc\` removes it after it expires (${k.expiresAt})` : '';
  return (
    `pgbranch: kept branch ${k.branch} (${k.reason}): ${k.redactedUrl} — \`pgbranch url ${k.branch}${cacheFlag}\` prints the URL with its password` +
    (k.socketDir ? `, or psql -h ${k.socketDir} -p ${k.port} -U postgres` : '') +
    `; \`pgbranch rm ${k.branch}${cacheFlag}\` removes it${expiry}.`
  );
}
