import type { DriverChecks } from './driver-checks.js';
import { containerPid, containersOf, containerStateIfAny, ephemeralImagesOf } from './docker.js';
import { localChecks } from './local-checks.js';
import { mountsUnder, uidOf } from './processes.js';
import { branchSnapshotDirs } from './snapshot-dirs.js';

/**
 * The docker driver: labelled containers, and per storage its snapshots of branches — committed images ('image'),
 * or clone directories in the cache directory that are bind-mounted into the containers ('bind').
 */
export function dockerChecks(storage: 'image' | 'bind'): DriverChecks {
  return {
    leftovers: (cacheDir) => [...containersOf(cacheDir).map((id) => `container ${id}`), ...mountsUnder(cacheDir).map((m) => `mount ${m}`)],
    runningServers: ({ containerId }) => (containerId && containerStateIfAny(containerId) === 'running' ? [`container ${containerId}`] : []),
    storage: (branch) => [
      ...(branch.containerId && containerStateIfAny(branch.containerId) !== undefined ? [`container ${branch.containerId}`] : []),
      ...localChecks.storage(branch),
    ],
    branchSnapshots: (cacheDir, session) =>
      storage === 'image'
        ? ephemeralImagesOf(cacheDir, session).map((id) => `image ${id}`)
        : branchSnapshotDirs(cacheDir, session).map((d) => `snapshot dir ${d}`),
    // No user namespaces: the uid of the container's postgres on the host is the one inside.
    serverUid: ({ containerId }) => (containerId ? uidOf(containerPid(containerId)) : undefined),
  };
}
