import type { SnapshotMeta } from '../../snapshot/snapshot-meta.js';
import type { BuildJob } from '../../snapshot/build-job.js';
import type { BranchAddress, BranchDetails, BranchRuntime } from '../driver.js';
import { freePort } from '../local/ports.js';
import { BranchContainer } from './branch-container.js';
import type { DockerDriver } from './docker-driver.js';

/** A branch as a container started from its snapshot's image. */
export class DockerBranch implements BranchRuntime {
  private box: BranchContainer | undefined;

  private constructor(
    private readonly driver: DockerDriver,
    private readonly parent: SnapshotMeta,
    private readonly name: string,
  ) {}

  static async start(driver: DockerDriver, parent: SnapshotMeta, _id: string, name: string): Promise<DockerBranch> {
    const branch = new DockerBranch(driver, parent, name);
    try {
      await branch.run(driver.options.network === 'host' ? await freePort() : 0);
    } catch (err) {
      await branch.destroy().catch(() => undefined);
      throw err;
    }
    return branch;
  }

  get port(): number {
    return this.box?.port ?? 0;
  }
  address(): BranchAddress {
    return this.driver.address(this.port);
  }
  details(): BranchDetails {
    return { containerId: this.box?.id };
  }
  get running(): boolean {
    return this.box?.running ?? false;
  }

  async reset(): Promise<void> {
    const port = this.port;
    await this.removeContainer();
    await this.run(port);
  }

  /** Stops the container cleanly; it keeps its writable layer (the branch's data). */
  async suspend(): Promise<void> {
    await this.box?.suspend();
  }

  async resume(): Promise<void> {
    await this.box?.resume();
  }

  async snapshot(job: Omit<BuildJob, 'from' | 'files' | 'kind'>): Promise<SnapshotMeta> {
    const box = this.box!;
    return box.whileStopped(() => this.driver.commit(box.container, { ...job, kind: 'branch', files: [], from: this.parent }));
  }

  async destroy(): Promise<void> {
    await this.removeContainer();
  }

  cleanupSync(): void {
    this.box?.removeSync();
  }

  private async run(hostPort: number): Promise<void> {
    const container = await this.driver.serverContainer(this.parent.hash, hostPort, 'branch');
    // Held before it starts, so a failed start is still removed by destroy().
    this.box = new BranchContainer(this.driver, container, `branch "${this.name}" of snapshot "${this.parent.name}"`);
    await this.box.start(hostPort);
  }

  private async removeContainer(): Promise<void> {
    const box = this.box;
    this.box = undefined;
    await box?.remove();
  }
}
