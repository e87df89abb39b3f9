import type Docker from 'dockerode';
import { stopCleanly } from './containers.js';
import type { ServerContainers } from './server-containers.js';

/**
 * The container a Docker branch runs in (either storage): started, suspended (stopped cleanly, data kept),
 * resumed on the same port, stopped for a consistent copy, removed.
 */
export class BranchContainer {
  private suspended = false;
  /** Where the server is reachable from this host, known once started. */
  port = 0;

  constructor(
    private readonly containers: ServerContainers,
    readonly container: Docker.Container,
    private readonly label: string,
    /** The password the data carries, when not the cache directory's. */
    private readonly password?: string,
  ) {}

  get id(): string {
    return this.container.id;
  }
  get running(): boolean {
    return !this.suspended;
  }

  /** Starts the container and waits until Postgres accepts connections. `hostPort`: the first start's port request. */
  async start(hostPort = this.port): Promise<void> {
    this.suspended = false;
    this.port = await this.containers.start(this.container, hostPort, this.label, this.password);
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

  remove(): Promise<void> {
    return this.containers.remove(this.container);
  }

  removeSync(): void {
    this.containers.cliSync(['rm', '-f', this.container.id]);
  }
}
