import type Docker from 'dockerode';
import type { Readable } from 'node:stream';
import { withLock } from '../../cache/lock.js';
import { receive } from '../../cache/snapshot-dirs.js';
import { rebaseDataTar } from '../../snapshot/data-dir-tar.js';
import { buildFailure } from '../../cache/store-snapshot.js';
import { PgbranchError } from '../../errors.js';
import type { BuildJob } from '../../snapshot/build-job.js';
import { SeedProgress } from '../../snapshot/progress.js';
import { metaFor, type StoredSnapshot } from '../../snapshot/stored-snapshot.js';
import { CONTAINER_DATA_DIR, type ServerSource } from './container-spec.js';
import { runToCompletion } from './containers.js';
import type { BranchPlace, DockerStorage } from './docker-storage.js';
import { initdbContainer } from './initdb-container.js';
import { cacheFilters, LABEL, madeBy } from './labels.js';
import { commitSnapshot } from './snapshot-commit.js';
import { rekeyAndCommit } from './rekey-container.js';
import type { ServerContainers } from './server-containers.js';
import { ownerIds } from './small-tar.js';

/**
 * Snapshots are images committed from a seeded container, with their metadata in a label; a branch's data
 * lives in its container's writable layer (copy-on-write in Docker's storage driver), so a branch needs
 * nothing on this host and the engine may be remote.
 */
export class ImageLayers implements DockerStorage {
  readonly kind = 'image';
  readonly hostData = false;

  constructor(private readonly containers: ServerContainers) {}

  private get docker(): Docker {
    return this.containers.docker;
  }

  async find(hash: string): Promise<StoredSnapshot | undefined> {
    // The tag carries the fingerprint of this cache directory's password: an image under it has data this cache's
    // password opens, whichever copy of the cache directory committed it (a CI cache restored on another runner).
    const inspected = await this.docker.getImage(this.containers.snapshotImage(hash)).inspect().catch(() => undefined);
    const meta = inspected?.Config?.Labels?.[LABEL.meta];
    return meta ? (JSON.parse(meta) as StoredSnapshot) : undefined;
  }

  async list(): Promise<StoredSnapshot[]> {
    const cache = this.containers.cache;
    const images = await this.docker.listImages({ filters: cacheFilters(cache, `${LABEL.kind}=snapshot`) });
    return images.flatMap((image) => {
      const meta = madeBy(image.Labels, cache) ? image.Labels?.[LABEL.meta] : undefined;
      return meta ? [JSON.parse(meta) as StoredSnapshot] : [];
    });
  }

  /** An image's labels cannot change: other names of a snapshot are not kept. */
  async name(_snapshot: StoredSnapshot, _name: string): Promise<void> {}

  async build(job: BuildJob): Promise<StoredSnapshot> {
    const progress = new SeedProgress(job.name);
    let container: Docker.Container | undefined;
    try {
      if (!job.from) {
        progress.step('initdb');
        container = await initdbContainer(this.containers);
        await runToCompletion(container, `initdb in image ${this.containers.image.image}`);
      } else {
        const hostPort = await this.containers.portRequest();
        container = await this.containers.create(this.mount(job.from), job.from.hash, hostPort, 'build');
        await this.containers.seed(container, hostPort, job, progress);
      }
      const meta = await this.commit(container, job);
      progress.done(job.hash);
      return meta;
    } catch (err) {
      progress.failed();
      throw buildFailure(job, err);
    } finally {
      await container?.remove({ force: true }).catch(() => undefined);
    }
  }

  /**
   * The data directory of the snapshot's image, read from a container that is created and never started (so the
   * data is as committed: cleanly shut down). The container goes when the stream ends or fails.
   */
  async exportData(snapshot: StoredSnapshot): Promise<Readable> {
    const container = await this.docker.createContainer({
      Image: this.containers.snapshotImage(snapshot.hash),
      Entrypoint: [],
      Cmd: ['true'],
      HostConfig: { NetworkMode: 'none' },
      Labels: this.containers.labels('export', { [LABEL.hash]: snapshot.hash }),
    });
    try {
      const stream = (await container.getArchive({ path: CONTAINER_DATA_DIR })) as unknown as Readable;
      let removed = false;
      const remove = () => {
        if (removed) return;
        removed = true;
        void container.remove({ force: true }).catch(() => undefined);
      };
      stream.once('end', remove).once('error', remove).once('close', remove);
      return stream;
    } catch (err) {
      await container.remove({ force: true }).catch(() => undefined);
      throw err;
    }
  }

  /**
   * A container of the base image gets the data (owned by the image's postgres user) and the password statement,
   * runs it in single-user mode and is committed as the snapshot image (see rekeyAndCommit), under the hash's lock.
   */
  importData(meta: StoredSnapshot, data: Readable, verified: Promise<void>): Promise<StoredSnapshot> {
    return withLock(this.containers.layout.lock(meta.hash), async () => {
      const stored = await this.find(meta.hash);
      if (stored) {
        data.destroy();
        return stored;
      }
      const [uid, gid] = ownerIds(this.containers.image.user);
      const into = CONTAINER_DATA_DIR.slice(1, CONTAINER_DATA_DIR.lastIndexOf('/'));
      return rekeyAndCommit(this.containers, this.containers.image.image, meta, (container) =>
        receive(data, verified, () => putStream(container, rebaseDataTar(data, into, { uid, gid }))),
      );
    });
  }

  async remove(snapshot: StoredSnapshot): Promise<void> {
    await this.docker.getImage(this.containers.snapshotImage(snapshot.hash)).remove({ force: true }).catch(() => undefined);
  }
  removeSync(snapshot: StoredSnapshot): void {
    this.containers.cliSync(['rmi', '-f', this.containers.snapshotImage(snapshot.hash)]);
  }

  /** The data comes with the container, from the snapshot's image. */
  async makeData(_parent: StoredSnapshot, _dir: string): Promise<void> {}
  /** The data goes with the container. */
  async discardData(_dir: string): Promise<void> {}

  mount(parent: StoredSnapshot): ServerSource {
    return { image: this.containers.snapshotImage(parent.hash) };
  }

  /**
   * Commits the branch's container. A branch without one (made and never started) still has its parent's data:
   * a container of the parent's image, created and never run, is committed instead.
   */
  async freeze(job: Omit<BuildJob, 'files'>, branch: BranchPlace): Promise<StoredSnapshot> {
    if (branch.containerId) return this.commit(this.docker.getContainer(branch.containerId), { ...job, files: [] });
    if (!job.from) throw new PgbranchError('PGBRANCH_DOCKER_NO_CONTAINER', `Snapshot "${job.name}": the branch has neither a container nor a parent snapshot to commit.`);
    const container = await this.containers.create(this.mount(job.from), job.from.hash, 0, 'build');
    try {
      return await this.commit(container, { ...job, files: [] });
    } finally {
      await container.remove({ force: true }).catch(() => undefined);
    }
  }

  /** Commits a stopped container as the snapshot image of a job. */
  private commit(container: Docker.Container, job: Omit<BuildJob, 'files'> & { files: BuildJob['files'] }): Promise<StoredSnapshot> {
    return commitSnapshot(this.containers, container, metaFor(job, { sizeBytes: 0, postgresVersion: this.containers.image.version }));
  }
}

/** putArchive of a stream that may fail midway: the request is aborted then, rather than left waiting for more. */
async function putStream(container: Docker.Container, tar: Readable): Promise<void> {
  const request = new AbortController();
  const failed = new Promise<never>((_, reject) =>
    tar.once('error', (err) => {
      request.abort();
      reject(err);
    }),
  );
  failed.catch(() => undefined);
  await Promise.race([container.putArchive(tar, { path: '/', abortSignal: request.signal }), failed]);
}
