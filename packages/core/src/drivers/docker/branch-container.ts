import type Docker from 'dockerode';
import { stopCleanly, waitForServer } from './containers.js';
import { dockerCliSync, type DockerDriver } from './docker-driver.js';

/**
 * The container a Docker branch runs in (either storage): started, suspended (stopped cleanly, data kept),
 * resumed on the same port, stopped for a consistent copy, removed.
 */
export class BranchContainer {
  private suspended = false;
  /** Where the server is reachable from this host, known once started. */
  port = 0;

  constructor(
    private readonly driver: DockerDriver,
    readonly container: Docker.Container,
    private readonly label: string,
  ) {}

  get id(): string {
    return this.container.id;
  }
  get running(): boolean {
    return !this.suspended;
  }

  /** Starts the container and waits until Postgres accepts connections. `hostPort`: the first start's port request. */
  async start(hostPort?: number): Promise<void> {
    await this.container.start();
    this.suspended = false;
    if (hostPort !== undefined) this.port = await this.driver.hostPortOf(this.container, hostPort);
    await waitForServer(this.container, this.driver.connection(this.port), this.label);
  }

  async suspend(): Promise<void> {
    if (this.suspended) return;
    this.suspended = true;
    await stopCleanly(this.container);
  }

  async resume(): Promise<void> {
    if (this.suspended) await this.start();
  }

  /** Runs `fn` while the server is stopped (a clean shutdown makes its data consistent), then starts it again if it ran. */
  async whileStopped<T>(fn: () => Promise<T>): Promise<T> {
    const wasRunning = !this.suspended;
    if (wasRunning) await stopCleanly(this.container);
    try {
      return await fn();
    } finally {
      // Same container, same command and port: the branch comes back on its URL.
      if (wasRunning) await this.start();
    }
  }

  async remove(): Promise<void> {
    await this.container.remove({ force: true }).catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 404) throw err;
    });
  }

  removeSync(): void {
    dockerCliSync(['rm', '-f', this.container.id], this.driver.options.dockerHost);
  }
}
