import { removeDir, removeDirSync } from '../../cloners/remove-dir.js';
import type { BuildJob } from '../../snapshot/build-job.js';
import type { StoredSnapshot } from '../../snapshot/stored-snapshot.js';
import type { BranchAddress, BranchDetails, BranchRuntime } from '../driver.js';
import { BranchContainer } from './branch-container.js';
import type { DockerStorage } from './docker-storage.js';
import type { ServerContainers } from './server-containers.js';

/**
 * A branch as a server container, its data where the storage keeps it: the container's writable layer (image
 * storage) or a host clone in the branch directory, bind-mounted (bind storage).
 */
export class DockerBranch implements BranchRuntime {
  private box: BranchContainer | undefined;
  /** Kept across a reset (whose container is replaced), so the address stays the same. */
  private lastPort = 0;

  private constructor(
    private readonly containers: ServerContainers,
    private readonly storage: DockerStorage,
    private readonly parent: StoredSnapshot,
    /** The branch's directory (used only by storages that keep data on this host). */
    private readonly dir: string,
    private readonly name: string,
    /** The superuser password the snapshot's data carries, when not the cache directory's. */
    private readonly password?: string,
  ) {}

  static async start(containers: ServerContainers, storage: DockerStorage, parent: StoredSnapshot, dir: string, name: string, password?: string): Promise<DockerBranch> {
    const branch = new DockerBranch(containers, storage, parent, dir, name, password);
    try {
      await branch.run(await containers.portRequest());
    } catch (err) {
      await branch.destroy().catch(() => undefined);
      throw err;
    }
    return branch;
  }

  address(): BranchAddress {
    return this.containers.address(this.box?.port || this.lastPort, this.password);
  }
  details(): BranchDetails {
    return { containerId: this.box?.id, ...(this.storage.hostData ? { dir: this.dir } : {}) };
  }
  get running(): boolean {
    return this.box?.running ?? false;
  }

  /** A new container on fresh data, on the same port. */
  async reset(): Promise<void> {
    const port = this.box?.port || this.lastPort;
    await this.removeContainer();
    await this.storage.discardData(this.dir);
    await this.run(port);
  }

  /** Stops the container cleanly; the data stays (in its writable layer, or the bind-mounted clone). */
  async suspend(): Promise<void> {
    await this.box?.suspend();
  }

  async resume(): Promise<void> {
    await this.box?.resume();
  }

  async snapshot(job: Omit<BuildJob, 'from' | 'files' | 'kind'>): Promise<StoredSnapshot> {
    const box = this.box!;
    return box.whileStopped(() => this.storage.freeze({ ...job, kind: 'branch', from: this.parent }, { containerId: box.id, dir: this.dir }));
  }

  async destroy(): Promise<void> {
    await this.removeContainer();
    if (this.storage.hostData) await removeDir(this.dir);
  }

  cleanupSync(): void {
    this.box?.removeSync();
    if (this.storage.hostData) removeDirSync(this.dir);
  }

  private async run(hostPort: number): Promise<void> {
    await this.storage.makeData(this.parent, this.dir);
    const container = await this.containers.create(this.storage.mount(this.parent, this.dir), this.parent.hash, hostPort, 'branch');
    // Held before it starts, so a failed start is still removed by destroy().
    this.box = new BranchContainer(this.containers, container, `branch "${this.name}" of snapshot "${this.parent.name}"`, this.password);
    await this.box.start(hostPort);
    this.lastPort = this.box.port;
  }

  private async removeContainer(): Promise<void> {
    const box = this.box;
    this.box = undefined;
    await box?.remove();
  }
}
