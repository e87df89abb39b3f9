import type Docker from 'dockerode';
import { buildFailure } from '../../cache/store-snapshot.js';
import { PgbranchError } from '../../errors.js';
import type { BuildJob } from '../../snapshot/build-job.js';
import { SeedProgress } from '../../snapshot/progress.js';
import { metaFor, type StoredSnapshot } from '../../snapshot/stored-snapshot.js';
import type { ServerSource } from './container-spec.js';
import { runToCompletion } from './containers.js';
import type { BranchPlace, DockerStorage } from './docker-storage.js';
import { initdbContainer } from './initdb-container.js';
import { LABEL } from './labels.js';
import { commitSnapshot } from './snapshot-commit.js';
import type { ServerContainers } from './server-containers.js';

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
    const inspected = await this.docker.getImage(this.containers.snapshotImage(hash)).inspect().catch(() => undefined);
    const meta = inspected?.Config?.Labels?.[LABEL.meta];
    return meta ? (JSON.parse(meta) as StoredSnapshot) : undefined;
  }

  async list(): Promise<StoredSnapshot[]> {
    const label = [`${LABEL.cacheDir}=${this.containers.layout.root}`, `${LABEL.kind}=snapshot`];
    const images = await this.docker.listImages({ filters: { label } });
    return images.flatMap((image) => {
      const meta = image.Labels?.[LABEL.meta];
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
