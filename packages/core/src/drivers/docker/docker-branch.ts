import type Docker from 'dockerode';
import type { SnapshotMeta } from '../../snapshot/snapshot-meta.js';
import type { BranchRuntime, BuildJob } from '../driver.js';
import { freePort } from '../local/ports.js';
import { stopCleanly, waitForServer } from './containers.js';
import { dockerCliSync, type DockerDriver } from './docker-driver.js';

/** A branch as a container started from its snapshot's image. */
export class DockerBranch implements BranchRuntime {
  readonly socketDir = undefined;
  readonly pid = undefined;
  readonly dir = undefined;
  private container: Docker.Container | undefined;
  private hostPort = 0;
  private publishedPort = 0;
  private suspended = false;

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
    return this.publishedPort;
  }
  get containerId(): string | undefined {
    return this.container?.id;
  }
  get running(): boolean {
    return this.container !== undefined && !this.suspended;
  }

  async reset(): Promise<void> {
    const port = this.publishedPort;
    await this.removeContainer();
    this.suspended = false;
    await this.run(port);
  }

  /** Stops the container cleanly; it keeps its writable layer (the branch's data). */
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
      return await this.driver.commit(container, { ...job, kind: 'branch', files: [], from: this.parent });
    } finally {
      // Same container, same command and port: the branch comes back on its URL.
      if (!this.suspended) {
        await container.start();
        await waitForServer(container, this.driver.connection(this.publishedPort), `branch "${this.name}"`);
      }
    }
  }

  async destroy(): Promise<void> {
    await this.removeContainer();
  }

  cleanupSync(): void {
    if (this.container) dockerCliSync(['rm', '-f', this.container.id]);
  }

  private async run(hostPort: number): Promise<void> {
    this.hostPort = hostPort;
    this.container = await this.driver.serverContainer(this.parent.hash, this.hostPort, 'branch');
    await this.container.start();
    this.publishedPort = await this.driver.hostPortOf(this.container, this.hostPort);
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
