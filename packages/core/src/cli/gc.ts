import { existsSync } from 'node:fs';
import path from 'node:path';
import { assertDockerReachable, dockerClientIfInstalled, effectiveDockerHost } from '../drivers/docker/docker-client.js';
import { pruneSnapshotImages, reapDockerOrphans } from '../drivers/docker/docker-reaper.js';
import { DEFAULT_PRUNE_POLICY, type PrunePolicy } from '../cache/prune-policy.js';
import { CacheLayout } from '../cache/layout.js';
import { reapDeadOwners, type ReapReport } from '../drivers/reaper.js';
import { resolveOptions } from '../options.js';
import { engineOptionsOf } from './branches.js';
import { openEngine } from '../engine/engine.js';
import { listSessions, sessionAlive } from '../cache/session.js';
import { describeCause } from '../errors.js';
import { collectNamedBranches, type CollectedBranch } from '../named/named-gc.js';
import { recordedDrivers, type NamedBranchMeta } from '../cache/named-record.js';
import { pruneLocalSnapshots } from '../cache/prune-snapshots.js';
import { removeOrphanAccounts } from '../system/server-account.js';

/** `pgbranch gc`: reaps what dead owners left in the cache directory, and their containers when Docker answers. */
export async function runGc(options: { cacheDir?: string; json: boolean; keep?: number; maxAgeDays?: number; accounts?: boolean }): Promise<number> {
  const resolved = resolveOptions({ cacheDir: options.cacheDir });
  const layout = new CacheLayout(resolved.cacheDir);
  // Containers first: they are matched to owners through the owner records the local pass removes.
  const policy = { keep: options.keep ?? DEFAULT_PRUNE_POLICY.keep, maxAgeDays: options.maxAgeDays ?? DEFAULT_PRUNE_POLICY.maxAgeDays };
  const records = (await recordedDrivers(path.join(layout.root, 'named'))).filter((r) => r.driver !== 'local');
  const engines = await dockerReports(layout, dockerHostsOf(resolved.docker.dockerHost, records), policy);
  const docker = engines.get(effectiveDockerHost(resolved.docker.dockerHost));
  const elsewhere = [...engines].filter(([host, r]) => host !== effectiveDockerHost(resolved.docker.dockerHost) && r).map(([, r]) => r!);
  const local = await reapDeadOwners(layout);
  const report: ReapReport = {
    sessions: local.sessions,
    servers: local.servers + [docker, ...elsewhere].reduce((sum, r) => sum + (r?.servers ?? 0), 0),
    directories: [...local.directories, ...[docker, ...elsewhere].flatMap((r) => r?.directories ?? [])],
  };
  const cache = await localCache(layout, policy).catch((err: unknown) => ({ branches: [] as CollectedBranch[], snapshots: [] as string[], snapshotBytes: 0, note: describeCause(err) }));
  for (const record of records) {
    if (record.driver === 'docker' && !engines.get(effectiveDockerHost(record.docker?.dockerHost))) continue; // not reachable: said in the summary
    const collected = await namedOf(layout, record).catch((err: unknown) => ((cache.note = `${record.driver} branches not checked: ${describeCause(err)}`), []));
    cache.branches.push(...collected);
  }
  report.directories.push(...cache.snapshots);
  // Only what this gc removed counts, measured before removing it (the filesystem's used space also moves
  // with everything else running on it). Docker containers and images are not measured.
  const removedBytes = (local.bytes ?? 0) + cache.snapshotBytes + cache.branches.reduce((sum, b) => sum + b.bytes, 0);
  // Server accounts are machine-wide: removed only on request, and only those whose cache directory is gone.
  const accounts = options.accounts ? await removeOrphanAccounts() : [];
  const removedAnything = report.directories.length > 0 || cache.branches.length > 0;
  if (options.json) {
    process.stdout.write(JSON.stringify({ cacheDir: layout.root, docker: docker ? 'reaped' : 'not reachable', ...report, branches: cache.branches, accounts, removedBytes, note: cache.note }) + '\n');
  } else {
    process.stdout.write(
      `pgbranch gc ${layout.root}: stopped ${report.servers} servers, removed ${report.directories.length} directories, containers and images ` +
        `of ${report.sessions.length} dead sessions, ${cache.branches.length} named branches and ${cache.snapshots.length} old snapshots` +
        `${docker ? '' : ' (Docker not reachable: containers not checked)'}` +
        `${removedAnything && removedBytes > 0 ? `; ${(removedBytes / 1e6).toFixed(1)} MB of files removed` : ''}\n`,
    );
    for (const b of cache.branches) process.stdout.write(`  removed branch ${b.name} (${b.reason})\n`);
    for (const item of report.directories) process.stdout.write(`  removed ${item}\n`);
    for (const user of accounts) process.stdout.write(`  removed account ${user} (its cache directory is gone)\n`);
    if (cache.note) process.stdout.write(`  ${cache.note}\n`);
  }
  return 0;
}

/**
 * Named branches (expired, broken) and local snapshots beyond the policy. Snapshots are left alone while
 * another engine runs on this cache (its branches may be starting from them).
 */
async function localCache(layout: CacheLayout, policy: PrunePolicy): Promise<{ branches: CollectedBranch[]; snapshots: string[]; snapshotBytes: number; note?: string }> {
  if (!existsSync(layout.snapshots) && !existsSync(path.join(layout.root, 'named'))) return { branches: [], snapshots: [], snapshotBytes: 0 };
  const engine = await openEngine({ cacheDir: layout.root, driver: 'local', reap: false }, 'maintain');
  try {
    const named = engine.named();
    const branches = await collectNamedBranches(named);
    const sessions = await listSessions(layout);
    const others = [...sessions].filter(([id, record]) => id !== engine.info().session && sessionAlive(record)).length;
    if (others > 0) return { branches, snapshots: [], snapshotBytes: 0, note: `snapshots not pruned: ${others} other engine(s) use this cache right now` };
    const pruned = await pruneLocalSnapshots(layout, await engine.storedSnapshots(), policy, await named.snapshotsInUse());
    return { branches, snapshots: pruned.directories, snapshotBytes: pruned.bytes };
  } finally {
    await engine.close();
  }
}

/** Every engine this cache directory may have containers on: the one gc is pointed at, and those named branches were made on. */
function dockerHostsOf(dockerHost: string | undefined, records: Array<Pick<NamedBranchMeta, 'driver' | 'docker'>>): string[] {
  const hosts = [effectiveDockerHost(dockerHost), ...records.filter((r) => r.driver === 'docker').map((r) => effectiveDockerHost(r.docker?.dockerHost))];
  return [...new Set(hosts)];
}

/** Reaps and prunes on each engine; undefined for one that does not answer (or without dockerode). */
async function dockerReports(layout: CacheLayout, hosts: string[], policy: PrunePolicy): Promise<Map<string, ReapReport | undefined>> {
  const reports = new Map<string, ReapReport | undefined>();
  for (const host of hosts) reports.set(host, await dockerReport(layout, host, policy));
  return reports;
}

async function dockerReport(layout: CacheLayout, dockerHost: string | undefined, policy: PrunePolicy): Promise<ReapReport | undefined> {
  const docker = await dockerClientIfInstalled(dockerHost);
  if (!docker) return undefined; // without dockerode, treated like an engine that does not answer
  try {
    await assertDockerReachable(docker, dockerHost);
  } catch {
    return undefined;
  }
  const report = await reapDockerOrphans(docker, layout);
  report.directories.push(...(await pruneSnapshotImages(docker, layout, policy)));
  return report;
}

/** Expired and broken named branches of one driver other than local. */
async function namedOf(layout: CacheLayout, record: Pick<NamedBranchMeta, 'driver' | 'docker'>): Promise<CollectedBranch[]> {
  const engine = await openEngine({ ...engineOptionsOf(layout.root, record), reap: false }, 'maintain');
  try {
    return await collectNamedBranches(engine.named());
  } finally {
    await engine.close();
  }
}
