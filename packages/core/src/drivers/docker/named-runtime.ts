import type Docker from 'dockerode';
import path from 'node:path';
import { overlayLayers } from '../../cloners/overlay-cloner.js';
import { removeDir } from '../../cloners/remove-dir.js';
import type { BuildJob } from '../../snapshot/build-job.js';
import { DockerBindDriver } from './docker-bind-driver.js';
import type { DockerDriver } from './docker-driver.js';
import { stopCleanly, waitForServer } from './containers.js';
import { LABEL } from './labels.js';
import { freePort } from '../local/ports.js';
import type { SnapshotMeta } from '../../snapshot/snapshot-meta.js';
import type { NamedBranchMeta } from '../../cache/named-record.js';
import type { BranchAddress } from '../driver.js';
import type { AdoptSource, LiveServer, NamedRuntime } from '../named-runtime.js';

/**
 * Named branches as containers: with image storage the data lives in the container's writable layer (suspend
 * stops the container, reset replaces it); with bind storage in a host clone in the branch directory.
 * Containers carry kind=named and the branch name, and are reaped only when their branch record is gone.
 */
export class DockerNamedRuntime implements NamedRuntime {
  constructor(
    private readonly driver: DockerDriver,
    private readonly docker: Docker,
    private readonly dirOf: (name: string) => string,
  ) {}

  recordFields(): Partial<NamedBranchMeta> {
    return { docker: { image: this.driver.image.image, network: this.driver.options.network, storage: this.bind ? 'bind' : 'image' } };
  }

  private get bind(): DockerBindDriver | undefined {
    return this.driver instanceof DockerBindDriver ? this.driver : undefined;
  }
  private dataDir(meta: NamedBranchMeta): string {
    return path.join(this.dirOf(meta.name), 'data');
  }

  async prepare(meta: NamedBranchMeta, parent: SnapshotMeta): Promise<void> {
    if (this.bind) await this.bind.cloneInto(this.bind.dataDirOf(parent), this.dataDir(meta), false);
  }

  async start(meta: NamedBranchMeta, parent: SnapshotMeta, password: string): Promise<void> {
    let container = meta.containerId ? await this.existing(meta.containerId) : undefined;
    if (!container) {
      meta.port ||= await freePort();
      container = await this.driver.serverContainer(parent.hash, meta.port, 'named', this.bind ? this.dataDir(meta) : undefined, { [LABEL.name]: meta.name });
      meta.containerId = container.id;
    }
    await container.start();
    meta.port = await this.driver.hostPortOf(container, meta.port);
    await waitForServer(container, this.driver.connection(meta.port, password), `branch "${meta.name}"`);
    meta.server = { pid: 0, containerId: container.id };
  }

  async live(meta: NamedBranchMeta): Promise<LiveServer | undefined> {
    if (!meta.containerId) return undefined;
    const info = await this.docker.getContainer(meta.containerId).inspect().catch(() => undefined);
    return info?.State.Running ? { containerId: meta.containerId } : undefined;
  }

  async stop(meta: NamedBranchMeta, _server: LiveServer, mode: 'fast' | 'immediate'): Promise<void> {
    if (!meta.containerId) return;
    const container = this.docker.getContainer(meta.containerId);
    if (mode === 'fast') await stopCleanly(container);
    else await container.kill({ signal: 'SIGKILL' }).catch(() => undefined);
  }

  async discard(meta: NamedBranchMeta): Promise<void> {
    await this.removeOutside(meta);
    delete meta.containerId;
    if (this.bind) {
      await removeDir(this.dataDir(meta));
      await removeDir(path.dirname(overlayLayers(this.dataDir(meta)).upper));
    }
  }

  async removeOutside(meta: NamedBranchMeta): Promise<void> {
    if (!meta.containerId) return;
    await this.docker.getContainer(meta.containerId).remove({ force: true }).catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 404) throw err;
    });
  }

  async freeze(meta: NamedBranchMeta, job: Omit<BuildJob, 'files' | 'kind'>): Promise<SnapshotMeta> {
    if (this.bind) return this.bind.snapshotFrom({ ...job, kind: 'branch' }, this.dataDir(meta));
    return this.driver.commit(this.docker.getContainer(meta.containerId!), { ...job, kind: 'branch', files: [] });
  }

  /**
   * A container's labels cannot change, and the branch's container is labelled with its engine session (whose
   * reaper would remove it): its stopped state is frozen into a snapshot of this named branch's own instead.
   */
  async adopt(meta: NamedBranchMeta, source: AdoptSource, parent: SnapshotMeta): Promise<SnapshotMeta> {
    const job = { name: `${parent.name} (kept as ${meta.name})`, hash: `${parent.hash.slice(0, 12)}-${meta.name}`, kind: 'branch' as const, from: parent };
    const frozen = this.bind
      ? await this.bind.snapshotFrom(job, path.join(source.dir!, 'data'))
      : await this.driver.commit(this.docker.getContainer(source.containerId!), { ...job, files: [] });
    // Recorded before anything else can fail: a failed adopt must drop this snapshot, never the pool's own parent.
    meta.snapshot = { hash: frozen.hash, name: frozen.name };
    meta.ownSnapshot = true;
    await this.prepare(meta, frozen);
    return frozen;
  }

  address(meta: NamedBranchMeta, password: string): BranchAddress {
    return this.driver.address(meta.port, password);
  }

  private async existing(id: string): Promise<Docker.Container | undefined> {
    const container = this.docker.getContainer(id);
    return (await container.inspect().catch(() => undefined)) ? container : undefined;
  }
}
