import { assertDockerReachable, dockerClient } from '../drivers/docker/docker-client.js';
import { pruneSnapshotImages, reapDockerOrphans } from '../drivers/docker/docker-reaper.js';
import { DEFAULT_PRUNE_POLICY, type PrunePolicy } from '../drivers/docker/prune-policy.js';
import { CacheLayout } from '../engine/layout.js';
import { reapDeadOwners, type ReapReport } from '../engine/reaper.js';
import { resolveOptions } from '../options.js';

/** `pgbranch gc`: reaps what dead owners left in the cache directory, and their containers when Docker answers. */
export async function runGc(options: { cacheDir?: string; json: boolean; keep?: number; maxAgeDays?: number }): Promise<number> {
  const resolved = resolveOptions({ cacheDir: options.cacheDir });
  const layout = new CacheLayout(resolved.cacheDir);
  // Containers first: they are matched to owners through the owner records the local pass removes.
  const policy = { keep: options.keep ?? DEFAULT_PRUNE_POLICY.keep, maxAgeDays: options.maxAgeDays ?? DEFAULT_PRUNE_POLICY.maxAgeDays };
  const docker = await dockerReport(layout, resolved.docker.dockerHost, policy);
  const local = await reapDeadOwners(layout);
  const report: ReapReport = {
    sessions: local.sessions,
    servers: local.servers + (docker?.servers ?? 0),
    directories: [...local.directories, ...(docker?.directories ?? [])],
  };
  if (options.json) {
    process.stdout.write(JSON.stringify({ cacheDir: layout.root, docker: docker ? 'reaped' : 'not reachable', ...report }) + '\n');
  } else {
    process.stdout.write(
      `pgbranch gc ${layout.root}: stopped ${report.servers} servers, removed ${report.directories.length} directories, containers and images ` +
        `of ${report.sessions.length} dead sessions${docker ? '' : ' (Docker not reachable: containers not checked)'}\n`,
    );
    for (const item of report.directories) process.stdout.write(`  removed ${item}\n`);
  }
  return 0;
}

async function dockerReport(layout: CacheLayout, dockerHost: string | undefined, policy: PrunePolicy): Promise<ReapReport | undefined> {
  const docker = dockerClient(dockerHost);
  try {
    await assertDockerReachable(docker, dockerHost);
  } catch {
    return undefined;
  }
  const report = await reapDockerOrphans(docker, layout);
  report.directories.push(...(await pruneSnapshotImages(docker, layout, policy)));
  return report;
}
