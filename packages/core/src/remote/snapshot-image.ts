import type { DockerDriver } from '../drivers/docker/docker-driver.js';
import { CONTAINER_DATA_DIR } from '../drivers/docker/container-spec.js';
import { LABEL } from '../drivers/docker/labels.js';
import { rekeyAndCommit } from '../drivers/docker/rekey-container.js';
import { withLock } from '../cache/lock.js';
import { RegistryError } from '../errors.js';
import { manifestOf, storedOf, type SnapshotManifest } from '../snapshot/snapshot-archive.js';
import { parseManifest } from '../snapshot/snapshot-archive-reader.js';
import { assertHash, assertSameBuild } from './portable-snapshots.js';
import type { StoredSnapshot } from '../snapshot/stored-snapshot.js';
import { dockerCommand, type DockerCommandOptions } from './docker-command.js';
import { PORTABLE_LABEL, type RegistryTransport } from './transport.js';

/**
 * The docker driver's image-stored snapshots travel as the snapshot image itself: a runnable image (the Postgres
 * image, the seeded data directory as layers, `postgres` as its command) without this cache directory's labels.
 * Pushed and pulled by the Docker CLI of the driver's engine (its credentials); a pulled image gets this cache
 * directory's password in one more layer and is kept under this cache directory's tag.
 */
export class SnapshotImageTransport implements RegistryTransport {
  constructor(
    private readonly driver: DockerDriver,
    private readonly docker: DockerCommandOptions,
  ) {}

  async push(snapshot: StoredSnapshot, ref: string): Promise<void> {
    const { containers } = this.driver;
    const manifest = manifestOf(snapshot, this.driver.postgresIdentity);
    const [repo, tag] = splitRef(ref);
    // Made clean, not only committed clean: engines that still record the container's own configuration in the
    // image (`container_config`) would otherwise push this machine's labels and host name.
    const container = await containers.docker.createContainer({
      Image: containers.snapshotImage(snapshot.hash),
      Entrypoint: [],
      Cmd: ['true'],
      User: containers.image.user,
      Hostname: 'pgbranch',
      HostConfig: { NetworkMode: 'none' },
      Labels: Object.fromEntries(LOCAL_LABELS.map((k) => [k, ''])),
    });
    try {
      await container.commit({ repo, tag, changes: portableChanges(manifest, containers.image.bindir, containers.image.user) });
      await dockerCommand(['push', ref], this.docker);
    } finally {
      await container.remove({ force: true }).catch(() => undefined);
      await dockerCommand(['rmi', ref], this.docker).catch(() => undefined);
    }
  }

  async pull(ref: string, hash: string): Promise<StoredSnapshot> {
    await dockerCommand(['pull', ref], this.docker);
    try {
      const { containers } = this.driver;
      const { docker, image } = containers;
      const pulled = await docker.getImage(ref).inspect();
      // Its programs run here (the password is set by the image's own postgres): they must be the Postgres image's.
      const base = (await docker.getImage(image.image).inspect()).RootFS?.Layers ?? [];
      const layers = pulled.RootFS?.Layers ?? [];
      if (base.length === 0 || base.some((layer, i) => layers[i] !== layer)) {
        throw new RegistryError('PGBRANCH_REGISTRY_FAILED', `Image ${ref} is not built on ${image.image}: it was not pushed by pgbranch's docker driver with this image, and is not run.`);
      }
      const labels = pulled.Config?.Labels ?? {};
      const text = labels[PORTABLE_LABEL];
      if (!text) throw new RegistryError('PGBRANCH_REGISTRY_FAILED', `Image ${ref} carries no pgbranch snapshot: it was not pushed by pgbranch's docker driver.`);
      const manifest = parseManifest(text, (_code, detail) => new RegistryError('PGBRANCH_REGISTRY_FAILED', `Image ${ref} carries a broken snapshot manifest: ${detail}.`));
      assertSameBuild(manifest, this.driver, ref);
      assertHash(manifest, hash, ref);
      return await withLock(containers.layout.lock(hash), async () => (await this.driver.findSnapshot(hash)) ?? (await rekeyAndCommit(containers, ref, storedOf(manifest))));
    } finally {
      // Untags only: the layers stay as the stored snapshot's parent.
      await dockerCommand(['rmi', ref], this.docker).catch(() => undefined);
    }
  }
}

/** Labels that say which cache directory, machine and process made an image: none of them travels. */
const LOCAL_LABELS = [LABEL.cacheDir, LABEL.cacheId, LABEL.session, LABEL.ownerPid, LABEL.meta, LABEL.ephemeralOwner, LABEL.createdAt];

/** Labels of this cache directory blanked (commit cannot remove labels), the manifest added, and a command that serves the data. */
function portableChanges(manifest: SnapshotManifest, bindir: string, user: string): string[] {
  const blank = LOCAL_LABELS.map((k) => `LABEL ${k}=""`);
  return [
    ...blank,
    `LABEL ${LABEL.kind}="portable-snapshot"`,
    `LABEL ${PORTABLE_LABEL}=${JSON.stringify(JSON.stringify(manifest))}`,
    `ENV PGDATA=${CONTAINER_DATA_DIR}`,
    `USER ${user}`,
    'EXPOSE 5432',
    `CMD ${JSON.stringify([`${bindir}/postgres`, '-D', CONTAINER_DATA_DIR, '-c', 'listen_addresses=*'])}`,
  ];
}

function splitRef(ref: string): [string, string] {
  const i = ref.lastIndexOf(':');
  return [ref.slice(0, i), ref.slice(i + 1)];
}
