import type { Readable } from 'node:stream';
import type { BuildJob } from '../../snapshot/build-job.js';
import type { StoredSnapshot } from '../../snapshot/stored-snapshot.js';
import type { DriverContext } from '../context.js';
import type { BranchRuntime, Driver, DriverInfo } from '../driver.js';
import type { NamedRuntime } from '../named-runtime.js';
import { reapDeadOwners, type ReapReport } from '../reaper.js';
import { DockerBranch } from './docker-branch.js';
import { reapDockerOrphans } from './docker-reaper.js';
import type { DockerStorage } from './docker-storage.js';
import { DockerNamedRuntime } from './named-runtime.js';
import type { ServerContainers } from './server-containers.js';

/**
 * Postgres in containers of any image that has it (never its entrypoint): a branch is a server container, and
 * the storage decides where snapshots and branch data live (committed images and container layers, or host
 * clones bind-mounted). Every address is on the engine's publish host.
 */
export class DockerDriver implements Driver {
  readonly name = 'docker';

  constructor(
    private readonly ctx: DriverContext,
    readonly containers: ServerContainers,
    readonly storage: DockerStorage,
    readonly info: DriverInfo,
  ) {}

  get settings(): Record<string, string> {
    return this.ctx.settings;
  }

  /**
   * The image's build only, the same on every machine with that image, so a recipe's snapshot has one hash
   * everywhere. Cache directories sharing an engine are kept apart by the snapshot image's tag (see snapshotTag).
   */
  get postgresIdentity(): string {
    return this.containers.image.identity;
  }
  get postgresMajor(): number {
    return this.containers.image.major;
  }

  findSnapshot(hash: string): Promise<StoredSnapshot | undefined> {
    return this.storage.find(hash);
  }
  listSnapshots(): Promise<StoredSnapshot[]> {
    return this.storage.list();
  }
  nameSnapshot(snapshot: StoredSnapshot, name: string): Promise<void> {
    return this.storage.name(snapshot, name);
  }
  buildSnapshot(job: BuildJob): Promise<StoredSnapshot> {
    return this.storage.build(job);
  }
  exportData(snapshot: StoredSnapshot): Promise<Readable> {
    return this.storage.exportData(snapshot);
  }
  importData(meta: StoredSnapshot, data: Readable, verified: Promise<void>): Promise<StoredSnapshot> {
    return this.storage.importData(meta, data, verified);
  }
  removeSnapshot(snapshot: StoredSnapshot): Promise<void> {
    return this.storage.remove(snapshot);
  }
  removeSnapshotSync(snapshot: StoredSnapshot): void {
    this.storage.removeSync(snapshot);
  }

  startBranch(snapshot: StoredSnapshot, branch: { id: string; name: string; password?: string }): Promise<BranchRuntime> {
    const dir = this.ctx.layout.branch(this.ctx.session.id, branch.id);
    return DockerBranch.start(this.containers, this.storage, snapshot, dir, branch.name, branch.password);
  }

  named(dirOf: (name: string) => string): NamedRuntime {
    return new DockerNamedRuntime(this.containers, this.storage, dirOf);
  }

  /** Containers first (they hold the clones), then, where branch data lives on this host, directories and owner records. */
  async reap(): Promise<ReapReport> {
    const containers = await reapDockerOrphans(this.containers.docker, this.ctx.layout, this.containers.cache);
    if (!this.storage.hostData) return containers;
    const local = await reapDeadOwners(this.ctx.layout);
    return { sessions: local.sessions, servers: containers.servers + local.servers, directories: [...containers.directories, ...local.directories] };
  }

  /** Every container is a branch's: nothing of the driver's own to stop. */
  async close(): Promise<void> {}
  closeSync(): void {}
}
