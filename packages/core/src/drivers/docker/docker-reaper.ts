import type Docker from 'dockerode';
import type { CacheLayout } from '../../engine/layout.js';
import type { ReapReport } from '../../engine/reaper.js';
import { listSessions, sessionAlive } from '../../engine/session.js';
import { LABEL } from './labels.js';

/**
 * Removes the containers of this cache directory's dead owners (found by their labels, so a crash
 * leaves nothing unfindable) and their snapshots of branches. Shared snapshot images stay cached.
 */
export async function reapDockerOrphans(docker: Docker, layout: CacheLayout): Promise<ReapReport> {
  const report: ReapReport = { sessions: [], servers: 0, directories: [] };
  const sessions = await listSessions(layout);
  const dead = (id: string | undefined) => !id || !sessionAlive(sessions.get(id));
  const filters = { label: [`${LABEL.cacheDir}=${layout.root}`] };
  for (const c of await docker.listContainers({ all: true, filters })) {
    if (!dead(c.Labels[LABEL.session])) continue;
    await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    report.servers++;
    report.directories.push(`container ${c.Id.slice(0, 12)}`);
  }
  for (const image of await docker.listImages({ filters })) {
    const owner = image.Labels?.[LABEL.ephemeralOwner];
    if (!owner || !dead(owner)) continue;
    await docker.getImage(image.Id).remove({ force: true }).catch(() => undefined);
    report.directories.push(`image ${image.Id.replace('sha256:', '').slice(0, 12)}`);
  }
  return report;
}
