import type Docker from 'dockerode';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { overlayLayers } from '../../cloners/overlay-cloner.js';
import { removeDir, removeDirSync } from '../../cloners/remove-dir.js';
import type { SnapshotMeta } from '../../snapshot/snapshot-meta.js';
import type { BranchRuntime, BuildJob } from '../driver.js';
import { freePort } from '../local/ports.js';
import { stopCleanly, waitForServer } from './containers.js';
import type { DockerBindDriver } from './docker-bind-driver.js';
import { dockerCliSync } from './docker-driver.js';

/** A branch as a container of the base image, its data directory a bind-mounted host clone. */
export class DockerBindBranch implements BranchRuntime {
  readonly socketDir = undefined;
  readonly pid = undefined;
  private container: Docker.Container | undefined;
  private publishedPort = 0;
  private suspended = false;

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
    return this.publishedPort;
  }
  get containerId(): string | undefined {
    return this.container?.id;
  }
  get running(): boolean {
    return this.container !== undefined && !this.suspended;
  }
  private get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  async reset(): Promise<void> {
    const port = this.publishedPort;
    await this.removeContainer();
    await removeDir(this.dataDir);
    await removeDir(path.dirname(overlayLayers(this.dataDir).upper));
    this.suspended = false;
    await this.cloneAndRun(port);
  }

  /** Stops the container cleanly; the data stays in the bind-mounted clone. */
  async suspend(): Promise<void> {
    if (!this.container || this.suspended) return;
    this.suspended = true;
    await stopCleanly(this.container);
  }

  async resume(): Promise<void> {
    if (!this.container || !this.suspended) return;
    await this.container.start();
    this.suspended = false;
    await waitForServer(this.container, this.driver.connection(this.publishedPort), `branch "${this.name}"`);
  }

  async snapshot(job: Omit<BuildJob, 'from' | 'files' | 'kind'>): Promise<SnapshotMeta> {
    const container = this.container!;
    if (!this.suspended) await stopCleanly(container);
    try {
      return await this.driver.snapshotFrom({ ...job, kind: 'branch', from: this.parent }, this.dataDir);
    } finally {
      if (!this.suspended) {
        await container.start();
        await waitForServer(container, this.driver.connection(this.publishedPort), `branch "${this.name}"`);
      }
    }
  }

  async destroy(): Promise<void> {
    await this.removeContainer();
    await removeDir(this.dir);
  }

  cleanupSync(): void {
    if (this.container) dockerCliSync(['rm', '-f', this.container.id]);
    removeDirSync(this.dir);
  }

  private async cloneAndRun(hostPort: number): Promise<void> {
    await this.driver.cloneInto(this.driver.dataDirOf(this.parent), this.dataDir, false);
    this.container = await this.driver.serverContainer(this.parent.hash, hostPort, 'branch', this.dataDir);
    await this.container.start();
    this.publishedPort = await this.driver.hostPortOf(this.container, hostPort);
    await waitForServer(this.container, this.driver.connection(this.publishedPort), `branch "${this.name}" of snapshot "${this.parent.name}"`);
  }

  private async removeContainer(): Promise<void> {
    const container = this.container;
    this.container = undefined;
    await container?.remove({ force: true }).catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 404) throw err;
    });
  }
}
