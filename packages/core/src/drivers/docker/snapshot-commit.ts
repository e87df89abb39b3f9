import type Docker from 'dockerode';
import { logger } from '../../log.js';
import type { StoredSnapshot } from '../../snapshot/stored-snapshot.js';
import { LABEL, passwordFingerprint, SNAPSHOT_REPO, snapshotImageTag } from './labels.js';
import type { ServerContainers } from './server-containers.js';

const log = logger('docker');

/**
 * Commits a stopped container as the image of stored snapshot `meta` (image storage), tagged for this cache
 * directory (see snapshotTag), with the owner labels and the metadata in a label. Returns the metadata with the
 * image's size. An image appears whole or not at all: no completion marker is needed.
 */
export async function commitSnapshot(containers: ServerContainers, container: Docker.Container, meta: StoredSnapshot): Promise<StoredSnapshot> {
  const { ephemeralOwner, names: _names, ...kept } = meta;
  const stored: StoredSnapshot = { ...kept, ...(ephemeralOwner ? { ephemeralOwner } : {}) };
  const labels = containers.labels('snapshot', {
    [LABEL.hash]: meta.hash,
    [LABEL.name]: meta.name,
    ...(ephemeralOwner ? { [LABEL.ephemeralOwner]: ephemeralOwner } : {}),
  });
  const changes = Object.entries({ ...labels, [LABEL.meta]: JSON.stringify(stored) }).map(([k, v]) => `LABEL ${k}=${JSON.stringify(v)}`);
  await container.commit({ repo: SNAPSHOT_REPO, tag: snapshotImageTag(meta.hash, passwordFingerprint(containers.password)), changes });
  const image = containers.snapshotImage(meta.hash);
  const size = (await containers.docker.getImage(image).inspect()).Size;
  log('committed %s (%d bytes)', image, size);
  return { ...stored, sizeBytes: size };
}
