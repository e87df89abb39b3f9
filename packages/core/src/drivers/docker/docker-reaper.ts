import type Docker from 'dockerode';
import type { CacheLayout } from '../../cache/layout.js';
import type { ReapReport } from '../reaper.js';
import { listSessions, sessionAlive } from '../../cache/session.js';
import path from 'node:path';
import { readNamedMeta } from '../../cache/named-record.js';
import { isAlive } from '../../system/proc.js';
import { cacheFilters, LABEL, madeBy, type CacheIdentity } from './labels.js';
import { readCacheId } from '../../cache/cache-id.js';
import { DEFAULT_PRUNE_POLICY, imagesToPrune, type PrunePolicy } from '../../cache/prune-policy.js';

/** Which cache directory `layout` is, as its containers and images are labelled (its identity is read, never made). */
export async function cacheIdentityOf(layout: CacheLayout): Promise<CacheIdentity> {
  return { root: layout.root, id: await readCacheId(layout.cacheId) };
}

/**
 * Removes the containers of this cache directory's dead owners (found by their labels, so a crash
 * leaves nothing unfindable) and their snapshots of branches. Shared snapshot images stay cached.
 * Only this cache directory's own are looked at: another machine's with the same path has owners this one
 * cannot see, which would all look dead.
 */
export async function reapDockerOrphans(docker: Docker, layout: CacheLayout, cache?: CacheIdentity): Promise<ReapReport> {
  const report: ReapReport = { sessions: [], servers: 0, directories: [] };
  const ours = cache ?? (await cacheIdentityOf(layout));
  const sessions = await listSessions(layout);
  const dead = (id: string | undefined) => !id || !sessionAlive(sessions.get(id));
  const filters = cacheFilters(ours);
  for (const c of await docker.listContainers({ all: true, filters })) {
    if (!madeBy(c.Labels, ours)) continue;
    // A named branch's container belongs to its record, not to the process that created it.
    if (c.Labels[LABEL.kind] === 'named' ? await namedContainerWanted(layout, c) : !dead(c.Labels[LABEL.session])) continue;
    await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    report.servers++;
    report.directories.push(`container ${c.Id.slice(0, 12)}`);
  }
  for (const image of await docker.listImages({ filters })) {
    if (!madeBy(image.Labels, ours)) continue;
    const owner = image.Labels?.[LABEL.ephemeralOwner];
    if (!owner || !dead(owner)) continue;
    await docker.getImage(image.Id).remove({ force: true }).catch(() => undefined);
    report.directories.push(`image ${image.Id.replace('sha256:', '').slice(0, 12)}`);
  }
  return report;
}

/**
 * Applies the age/count policy to this cache directory's stored snapshot images. Images at this path with another
 * identity (another machine's, or those of a cache directory deleted and made again here) are removed by age only:
 * their count belongs to their own cache. Images that a container still uses are left alone (Docker refuses;
 * nothing is forced).
 */
export async function pruneSnapshotImages(docker: Docker, layout: CacheLayout, policy: PrunePolicy = DEFAULT_PRUNE_POLICY): Promise<string[]> {
  const ours = await cacheIdentityOf(layout);
  const images = (await docker.listImages({ filters: cacheFilters(ours, `${LABEL.kind}=snapshot`) })).filter((i) => !i.Labels?.[LABEL.ephemeralOwner]);
  const asCandidate = (i: Docker.ImageInfo) => ({ id: i.Id, created: i.Created, tags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>') });
  const own = images.filter((i) => madeBy(i.Labels, ours)).map(asCandidate);
  const strangers = images.filter((i) => !madeBy(i.Labels, ours)).map(asCandidate);
  const doomed = [...imagesToPrune(own, policy), ...imagesToPrune(strangers, { keep: Infinity, maxAgeDays: policy.maxAgeDays })];
  const removed: string[] = [];
  for (const image of doomed) {
    const tags = [...own, ...strangers].find((c) => c.id === image.id)!.tags;
    try {
      // An image whose tag went to a newer one (rebuilt under the same name) is removed by its ID.
      for (const name of tags.length > 0 ? tags : [image.id]) await docker.getImage(name).remove();
      removed.push(`image ${tags[0] ?? image.id.replace('sha256:', '').slice(0, 12)}`);
    } catch {
      // In use by a container: kept.
    }
  }
  return removed;
}

/** True while a named branch's record points at this container (or its creation is still running). */
async function namedContainerWanted(layout: CacheLayout, c: Docker.ContainerInfo): Promise<boolean> {
  const name = c.Labels[LABEL.name];
  const meta = name ? await readNamedMeta(path.join(layout.root, 'named', name)) : undefined;
  if (!meta) return false;
  if (meta.containerId === c.Id) return true;
  return meta.state === 'creating' && meta.creator !== undefined && isAlive(meta.creator.pid, meta.creator.startTime);
}
