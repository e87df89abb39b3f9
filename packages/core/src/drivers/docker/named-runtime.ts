import type Docker from 'dockerode';
import type { NamedBranchMeta } from '../../cache/named-record.js';
import type { BuildJob } from '../../snapshot/build-job.js';
import type { StoredSnapshot } from '../../snapshot/stored-snapshot.js';
import type { BranchAddress } from '../driver.js';
import { freePort } from '../local/ports.js';
import type { AdoptSource, LiveServer, NamedRuntime } from '../named-runtime.js';
import { stopCleanly } from './containers.js';
import type { DockerStorage } from './docker-storage.js';
import { LABEL } from './labels.js';
import { publishHostOf } from './publish-host.js';
import { effectiveDockerHost } from './docker-client.js';
import type { ServerContainers } from './server-containers.js';

/**
 * Named branches as containers, their data where the storage keeps it (the container's writable layer, or a host
 * clone in the branch directory): suspend stops the container, reset replaces it. Containers carry kind=named and
 * the branch name, and are reaped only when their branch record is gone.
 */
export class DockerNamedRuntime implements NamedRuntime {
  constructor(
    private readonly containers: ServerContainers,
    private readonly storage: DockerStorage,
    private readonly dirOf: (name: string) => string,
  ) {}

  private get docker(): Docker {
    return this.containers.docker;
  }

  /**
   * The settings tools reopen the branch with, the engine's address included: `pgbranch url`, `rm` or the keeper in
   * another shell, without the DOCKER_HOST it was made with, must still reach its container there.
   */
  recordFields(): Partial<NamedBranchMeta> {
    const dockerHost = effectiveDockerHost(this.containers.dockerHost);
    const publishHost = this.containers.publishHost !== publishHostOf(dockerHost) ? this.containers.publishHost : undefined;
    return {
      docker: { image: this.containers.image.image, network: this.containers.network, storage: this.storage.kind, dockerHost, ...(publishHost ? { publishHost } : {}) },
    };
  }

  /** A branch recorded on another engine (records without an engine predate recording it: taken as this one). */
  elsewhere(meta: Pick<NamedBranchMeta, 'docker'>): string | undefined {
    const recorded = meta.docker?.dockerHost;
    if (!recorded) return undefined;
    return recorded === effectiveDockerHost(this.containers.dockerHost) ? undefined : `the Docker engine at ${recorded}`;
  }

  prepare(meta: NamedBranchMeta, parent: StoredSnapshot): Promise<void> {
    return this.storage.makeData(parent, this.dirOf(meta.name));
  }

  async start(meta: NamedBranchMeta, parent: StoredSnapshot, password: string): Promise<void> {
    let container = meta.containerId ? await this.existing(meta.containerId) : undefined;
    if (!container) {
      meta.port ||= await freePort();
      const source = this.storage.mount(parent, this.dirOf(meta.name));
      container = await this.containers.create(source, parent.hash, meta.port, 'named', { [LABEL.name]: meta.name });
      meta.containerId = container.id;
    }
    meta.port = await this.containers.start(container, meta.port, `branch "${meta.name}"`, password);
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
    await this.storage.discardData(this.dirOf(meta.name));
  }

  async removeOutside(meta: NamedBranchMeta): Promise<void> {
    if (meta.containerId) await this.containers.remove(this.docker.getContainer(meta.containerId));
  }

  freeze(meta: NamedBranchMeta, job: Omit<BuildJob, 'files' | 'kind'>): Promise<StoredSnapshot> {
    return this.storage.freeze({ ...job, kind: 'branch' }, { containerId: meta.containerId, dir: this.dirOf(meta.name) });
  }

  /**
   * A container's labels cannot change, and the branch's container is labelled with its engine session (whose
   * reaper would remove it): its stopped state is frozen into a snapshot of this named branch's own instead.
   */
  async adopt(meta: NamedBranchMeta, source: AdoptSource, parent: StoredSnapshot): Promise<StoredSnapshot> {
    const job = { name: `${parent.name} (kept as ${meta.name})`, hash: `${parent.hash.slice(0, 12)}-${meta.name}`, kind: 'branch' as const, from: parent };
    const frozen = await this.storage.freeze(job, source);
    // Recorded before anything else can fail: a failed adopt must drop this snapshot, never the pool's own parent.
    meta.snapshot = { hash: frozen.hash, name: frozen.name };
    meta.ownSnapshot = true;
    await this.prepare(meta, frozen);
    return frozen;
  }

  address(meta: NamedBranchMeta, password: string): BranchAddress {
    return this.containers.address(meta.port, password);
  }

  private async existing(id: string): Promise<Docker.Container | undefined> {
    const container = this.docker.getContainer(id);
    return (await container.inspect().catch(() => undefined)) ? container : undefined;
  }
}
