import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { overlayLayers } from '../../cloners/overlay-cloner.js';
import { removeDir, removeDirSync } from '../../cloners/remove-dir.js';
import type { SnapshotMeta } from '../../snapshot/snapshot-meta.js';
import type { BuildJob } from '../../snapshot/build-job.js';
import type { BranchAddress, BranchDetails, BranchRuntime } from '../driver.js';
import { freePort } from '../local/ports.js';
import { BranchContainer } from './branch-container.js';
import type { DockerBindDriver } from './docker-bind-driver.js';

/** A branch as a container of the base image, its data directory a bind-mounted host clone. */
export class DockerBindBranch implements BranchRuntime {
  private box: BranchContainer | undefined;

  private constructor(
    private readonly driver: DockerBindDriver,
    private readonly parent: SnapshotMeta,
    private readonly id: string,
    private readonly name: string,
  ) {}

  static async start(driver: DockerBindDriver, parent: SnapshotMeta, id: string, name: string): Promise<DockerBindBranch> {
    const branch = new DockerBindBranch(driver, parent, id, name);
    try {
      await mkdir(branch.dir, { recursive: true, mode: 0o755 });
      await branch.cloneAndRun(driver.options.network === 'host' ? await freePort() : 0);
    } catch (err) {
      await branch.destroy().catch(() => undefined);
      throw err;
    }
    return branch;
  }

  get dir(): string {
    return this.driver.branchDir(this.id);
  }
  get port(): number {
    return this.box?.port ?? 0;
  }
  address(): BranchAddress {
    return this.driver.address(this.port);
  }
  details(): BranchDetails {
    return { containerId: this.box?.id, dir: this.dir };
  }
  get running(): boolean {
    return this.box?.running ?? false;
  }
  private get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  async reset(): Promise<void> {
    const port = this.port;
    await this.removeContainer();
    await removeDir(this.dataDir);
    await removeDir(path.dirname(overlayLayers(this.dataDir).upper));
    await this.cloneAndRun(port);
  }

  /** Stops the container cleanly; the data stays in the bind-mounted clone. */
  async suspend(): Promise<void> {
    await this.box?.suspend();
  }

  async resume(): Promise<void> {
    await this.box?.resume();
  }

  async snapshot(job: Omit<BuildJob, 'from' | 'files' | 'kind'>): Promise<SnapshotMeta> {
    return this.box!.whileStopped(() => this.driver.snapshotFrom({ ...job, kind: 'branch', from: this.parent }, this.dataDir));
  }

  async destroy(): Promise<void> {
    await this.removeContainer();
    await removeDir(this.dir);
  }

  cleanupSync(): void {
    this.box?.removeSync();
    removeDirSync(this.dir);
  }

  private async cloneAndRun(hostPort: number): Promise<void> {
    await this.driver.cloneInto(this.driver.dataDirOf(this.parent), this.dataDir, false);
    const container = await this.driver.serverContainer(this.parent.hash, hostPort, 'branch', this.dataDir);
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
