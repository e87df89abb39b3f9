import type Docker from 'dockerode';
import type pg from 'pg';
import type { CacheLayout } from '../../cache/layout.js';
import { PgbranchError } from '../../errors.js';
import { applyRecipe } from '../../snapshot/apply-recipe.js';
import type { BuildJob } from '../../snapshot/build-job.js';
import { DATABASE, SUPERUSER } from '../../snapshot/postgres-settings.js';
import type { SeedProgress } from '../../snapshot/progress.js';
import { tcpConnection } from '../address.js';
import type { BranchAddress } from '../driver.js';
import { freePort } from '../local/ports.js';
import { serverContainerSpec, type ServerSource } from './container-spec.js';
import { stopCleanly, waitForServer } from './containers.js';
import { dockerCliSync } from './docker-cli.js';
import type { DockerOptions } from './docker-options.js';
import type { ImageInfo } from './image-probe.js';
import { LABEL, ownerLabels, passwordFingerprint, snapshotTag, type CacheIdentity } from './labels.js';

/** What the containers of one driver share: settled once when the driver is made. */
export interface ServerContainersConfig {
  docker: Docker;
  image: ImageInfo;
  network: DockerOptions['network'];
  /** The engine's address, for the `docker` CLI (undefined: DOCKER_HOST, else the default socket). */
  dockerHost: string | undefined;
  /** Where this host reaches the engine's servers (see publishHostFor). */
  publishHost: string;
  layout: CacheLayout;
  /** The cache directory's identity (see loadCacheId); '' for an engine that only reads a cache that has none. */
  cacheId: string;
  sessionId: string;
  settings: Record<string, string>;
  /** Superuser password of the cache directory's snapshots (never logged). */
  password: string;
}

/**
 * The Postgres server containers of one driver, whatever storage holds their data: how they are labelled,
 * created, started and waited for, and where this host reaches them. Every address and connection to a
 * container's server is built here, on the engine's publish host.
 */
export class ServerContainers {
  constructor(private readonly config: ServerContainersConfig) {}

  get docker(): Docker {
    return this.config.docker;
  }
  get image(): ImageInfo {
    return this.config.image;
  }
  get network(): DockerOptions['network'] {
    return this.config.network;
  }
  get dockerHost(): string | undefined {
    return this.config.dockerHost;
  }
  get publishHost(): string {
    return this.config.publishHost;
  }
  get layout(): CacheLayout {
    return this.config.layout;
  }
  /** Which cache directory this is, as its containers and images are labelled and selected. */
  get cache(): CacheIdentity {
    return { root: this.config.layout.root, id: this.config.cacheId };
  }
  get sessionId(): string {
    return this.config.sessionId;
  }
  get password(): string {
    return this.config.password;
  }

  /** The image of this cache directory's stored snapshot `hash` (image storage). */
  snapshotImage(hash: string): string {
    return snapshotTag(hash, passwordFingerprint(this.config.password));
  }

  /** Labels for something this engine makes (found by them after a crash). */
  labels(kind: string, extra: Record<string, string> = {}): Record<string, string> {
    return { ...ownerLabels(this.cache, this.config.sessionId, kind), ...extra };
  }

  /** The host port to ask for: a free one in the host network, any (0) when Docker publishes it. */
  async portRequest(): Promise<number> {
    return this.config.network === 'host' ? freePort() : 0;
  }

  /** Creates (not starts) a server container of a snapshot, its data from `source` (see DockerStorage.mount). */
  create(source: ServerSource, snapshotHash: string, hostPort: number, kind: string, extraLabels: Record<string, string> = {}): Promise<Docker.Container> {
    return this.config.docker.createContainer(
      serverContainerSpec({
        ...source,
        bindir: this.config.image.bindir,
        user: this.config.image.user,
        network: this.config.network,
        hostPort,
        settings: this.config.settings,
        labels: this.labels(kind, { [LABEL.hash]: snapshotHash, ...extraLabels }),
      }),
    );
  }

  /**
   * Starts a server container and waits until Postgres answers; returns the port where this host reaches it.
   * `password`: the one its data carries (the cache's unless a named branch changed it).
   */
  async start(container: Docker.Container, hostPort: number, label: string, password = this.config.password): Promise<number> {
    await container.start();
    const port = await this.hostPortOf(container, hostPort);
    await waitForServer(container, this.connection(port, password), label);
    return port;
  }

  /** Where a started server container is reachable from this host. */
  async hostPortOf(container: Docker.Container, hostPort: number): Promise<number> {
    if (this.config.network === 'host') return hostPort;
    const info = await container.inspect();
    const binding = info.NetworkSettings.Ports?.['5432/tcp']?.[0];
    if (!binding) throw new PgbranchError('PGBRANCH_DOCKER_NO_PORT', `Container ${container.id.slice(0, 12)} has no published port.`);
    return Number(binding.HostPort);
  }

  /** Where a server container publishes `port`, with `password` (the cache's unless the data carries another). */
  address(port: number, password = this.config.password): BranchAddress {
    return { host: this.config.publishHost, port, user: SUPERUSER, password, database: DATABASE };
  }
  connection(port: number, password?: string): pg.ClientConfig {
    return tcpConnection(this.address(port, password));
  }

  /** Starts a seeding container, runs the recipe's SQL and init() against it, checkpoints and stops cleanly. */
  async seed(container: Docker.Container, hostPort: number, job: BuildJob, progress: SeedProgress): Promise<void> {
    progress.step('starting server');
    const port = await this.start(container, hostPort, `snapshot "${job.name}"`);
    await applyRecipe(job, this.connection(port), { host: this.config.publishHost, port, password: this.config.password }, progress);
    await stopCleanly(container);
  }

  /** Removes a container; one already gone is fine. */
  async remove(container: Docker.Container): Promise<void> {
    await container.remove({ force: true }).catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 404) throw err;
    });
  }

  /** `docker …` against this driver's engine, synchronously and best effort (for exit handlers). */
  cliSync(args: string[]): void {
    dockerCliSync(args, this.config.dockerHost);
  }
}
