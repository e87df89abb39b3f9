import { execFileSync } from 'node:child_process';
import type Docker from 'dockerode';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { pack } from 'tar-stream';
import type { DriverContext } from '../context.js';
import type { ReapReport } from '../reaper.js';
import { PgbranchError } from '../../errors.js';
import { logger } from '../../log.js';
import { SeedProgress } from '../../snapshot/progress.js';
import { metaFor, type SnapshotMeta } from '../../snapshot/snapshot-meta.js';
import { applyRecipe } from '../../snapshot/apply-recipe.js';
import { buildFailure } from '../../cache/store-snapshot.js';
import type { BuildJob } from '../../snapshot/build-job.js';
import type { BranchAddress, BranchRuntime, Driver, DriverInfo } from '../driver.js';
import type { NamedRuntime } from '../named-runtime.js';
import { tcpConnection } from '../address.js';
import { DockerNamedRuntime } from './named-runtime.js';
import type { DockerOptions } from './docker-options.js';
import { freePort } from '../local/ports.js';
import { DATABASE, INITDB_ARGS, SUPERUSER } from '../../snapshot/postgres-settings.js';
import { CONTAINER_DATA_DIR, serverContainerSpec } from './container-spec.js';
import { runToCompletion, stopCleanly, waitForServer } from './containers.js';
import { DockerBranch } from './docker-branch.js';
import { reapDockerOrphans } from './docker-reaper.js';
import type { ImageInfo } from './image-probe.js';
import { LABEL, ownerLabels, SNAPSHOT_REPO } from './labels.js';

const log = logger('docker');

export type DockerDriverOptions = Pick<DockerOptions, 'network' | 'dockerHost'>;

/**
 * Postgres in containers. A snapshot is an image committed from a seeded container (the data
 * directory lives in the container layer, so every branch gets copy-on-write from the storage
 * driver); a branch is a container started from it.
 */
export class DockerDriver implements Driver {
  readonly name = 'docker';
  /** Where the engine's host publishes container ports, as this host reaches it. */
  readonly publishHost: string;

  constructor(
    protected readonly ctx: DriverContext,
    readonly docker: Docker,
    readonly image: ImageInfo,
    readonly options: DockerDriverOptions,
    readonly info: DriverInfo,
  ) {
    this.publishHost = publishHostOf(options.dockerHost ?? process.env.DOCKER_HOST);
  }

  get settings(): Record<string, string> {
    return this.ctx.settings;
  }

  /** The image's build plus this cache directory's password: a snapshot image carries its password. */
  get postgresIdentity(): string {
    return `${this.image.identity}|pw:${createHash('sha256').update(this.ctx.password).digest('hex').slice(0, 16)}`;
  }
  get postgresMajor(): number {
    return this.image.major;
  }

  async findSnapshot(hash: string): Promise<SnapshotMeta | undefined> {
    const inspected = await this.docker.getImage(snapshotTag(hash)).inspect().catch(() => undefined);
    const meta = inspected?.Config?.Labels?.[LABEL.meta];
    return meta ? (JSON.parse(meta) as SnapshotMeta) : undefined;
  }

  async listSnapshots(): Promise<SnapshotMeta[]> {
    const images = await this.docker.listImages({ filters: { label: [`${LABEL.cacheDir}=${this.ctx.layout.root}`, `${LABEL.kind}=snapshot`] } });
    return images.flatMap((image) => {
      const meta = image.Labels?.[LABEL.meta];
      return meta ? [JSON.parse(meta) as SnapshotMeta] : [];
    });
  }

  /** Image storage records a snapshot's name in its labels only: other names are not kept. */
  async nameSnapshot(_snapshot: SnapshotMeta, _name: string): Promise<void> {}

  named(dirOf: (name: string) => string): NamedRuntime {
    return new DockerNamedRuntime(this, this.docker, dirOf);
  }

  /** Every container is a branch's: nothing of the driver's own to stop. */
  async close(): Promise<void> {}
  closeSync(): void {}

  async buildSnapshot(job: BuildJob): Promise<SnapshotMeta> {
    const progress = new SeedProgress(job.name);
    let container: Docker.Container | undefined;
    try {
      if (!job.from) {
        progress.step('initdb');
        container = await this.initdbContainer();
        await runToCompletion(container, `initdb in image ${this.image.image}`);
      } else {
        container = await this.seed(job, progress);
      }
      const meta = await this.commit(container, job);
      progress.done(job.hash);
      return meta;
    } catch (err) {
      progress.failed();
      throw buildFailure(job, err);
    } finally {
      await container?.remove({ force: true }).catch(() => undefined);
    }
  }

  startBranch(snapshot: SnapshotMeta, branch: { id: string; name: string }): Promise<BranchRuntime> {
    return DockerBranch.start(this, snapshot, branch.id, branch.name);
  }

  async removeSnapshot(snapshot: SnapshotMeta): Promise<void> {
    await this.docker.getImage(snapshotTag(snapshot.hash)).remove({ force: true }).catch(() => undefined);
  }

  removeSnapshotSync(snapshot: SnapshotMeta): void {
    dockerCliSync(['rmi', '-f', snapshotTag(snapshot.hash)], this.options.dockerHost);
  }

  reap(): Promise<ReapReport> {
    return reapDockerOrphans(this.docker, this.ctx.layout);
  }

  /** Labels for something this engine makes. */
  labels(kind: string, extra: Record<string, string> = {}): Record<string, string> {
    return { ...ownerLabels(this.ctx.layout.root, this.ctx.session.id, kind), ...extra };
  }

  /** Creates (not starts) a server container: of a snapshot image, or of the base image with a host data directory. */
  async serverContainer(snapshotHash: string, hostPort: number, kind: string, dataDirOnHost?: string, extraLabels: Record<string, string> = {}): Promise<Docker.Container> {
    return this.docker.createContainer(
      serverContainerSpec({
        image: dataDirOnHost ? this.image.image : snapshotTag(snapshotHash),
        bindir: this.image.bindir,
        user: this.image.user,
        network: this.options.network,
        hostPort,
        settings: this.ctx.settings,
        labels: this.labels(kind, { [LABEL.hash]: snapshotHash, ...extraLabels }),
        dataDirOnHost,
      }),
    );
  }

  /** Where a started server container is reachable from this host. */
  async hostPortOf(container: Docker.Container, hostPort: number): Promise<number> {
    if (this.options.network === 'host') return hostPort;
    const info = await container.inspect();
    const binding = info.NetworkSettings.Ports?.['5432/tcp']?.[0];
    if (!binding) throw new PgbranchError('PGBRANCH_DOCKER_NO_PORT', `Container ${container.id.slice(0, 12)} has no published port.`);
    return Number(binding.HostPort);
  }

  /** Where a server container publishes `port`, with `password` (the cache's unless the data carries another). */
  address(port: number, password = this.ctx.password): BranchAddress {
    return { host: this.publishHost, port, user: SUPERUSER, password, database: DATABASE };
  }
  connection(port: number, password?: string): pg.ClientConfig {
    return tcpConnection(this.address(port, password));
  }

  /** Commits a stopped container as the snapshot image, with the metadata in a label. */
  async commit(container: Docker.Container, job: Omit<BuildJob, 'files'> & { files: BuildJob['files'] }): Promise<SnapshotMeta> {
    const meta = metaFor(job, { sizeBytes: 0, postgresVersion: this.image.version });
    const labels = this.labels('snapshot', {
      [LABEL.hash]: job.hash,
      [LABEL.name]: job.name,
      ...(job.ephemeralOwner ? { [LABEL.ephemeralOwner]: job.ephemeralOwner } : {}),
    });
    const changes = Object.entries({ ...labels, [LABEL.meta]: JSON.stringify(meta) }).map(([k, v]) => `LABEL ${k}=${JSON.stringify(v)}`);
    // An image appears whole or not at all: no completion marker is needed.
    await container.commit({ repo: SNAPSHOT_REPO, tag: job.hash, changes });
    const size = (await this.docker.getImage(snapshotTag(job.hash)).inspect()).Size;
    log('committed %s (%d bytes)', snapshotTag(job.hash), size);
    return { ...meta, sizeBytes: size };
  }

  /**
   * A container that runs initdb into the data directory: the image's own (the password file is
   * put in and removed again), or a host directory mounted with the password file beside it.
   */
  protected async initdbContainer(onHost?: { dataDir: string; passwordFile: string }): Promise<Docker.Container> {
    const dir = CONTAINER_DATA_DIR.slice(0, CONTAINER_DATA_DIR.lastIndexOf('/'));
    const script = [
      'set -e',
      `"${this.image.bindir}/initdb" -D ${CONTAINER_DATA_DIR} --pwfile=${dir}/.pw --no-sync ${INITDB_ARGS.join(' ')} >/dev/null`,
      ...(onHost ? [] : [`rm -f ${dir}/.pw`]),
      // Bridge connections come from the Docker gateway, not loopback; they still need the password.
      `echo "host all all all scram-sha-256" >> ${CONTAINER_DATA_DIR}/pg_hba.conf`,
    ].join('\n');
    const container = await this.docker.createContainer({
      Image: this.image.image,
      Entrypoint: [],
      Cmd: ['sh', '-c', script],
      User: this.image.user,
      HostConfig: {
        NetworkMode: 'none',
        ...(onHost ? { Binds: [`${onHost.dataDir}:${CONTAINER_DATA_DIR}`, `${onHost.passwordFile}:${dir}/.pw:ro`] } : {}),
      },
      Labels: this.labels('build'),
    });
    if (onHost) return container;
    const [uid, gid] = this.image.user.split(':').map(Number) as [number, number];
    await container.putArchive(await tarOf([
      { name: dir.slice(1) + '/', type: 'directory', mode: 0o700, uid, gid },
      { name: `${dir.slice(1)}/.pw`, type: 'file', mode: 0o600, uid, gid, content: this.ctx.password + '\n' },
    ]), { path: '/' });
    return container;
  }

  private async seed(job: BuildJob, progress: SeedProgress): Promise<Docker.Container> {
    const hostPort = this.options.network === 'host' ? await freePort() : 0;
    const container = await this.serverContainer(job.from!.hash, hostPort, 'build');
    try {
      await this.runRecipe(container, hostPort, job, progress);
      return container;
    } catch (err) {
      await container.remove({ force: true }).catch(() => undefined);
      throw err;
    }
  }

  /** Starts the server container, runs the recipe's SQL and init(), checkpoints and stops cleanly. */
  protected async runRecipe(container: Docker.Container, hostPort: number, job: BuildJob, progress: SeedProgress): Promise<void> {
    progress.step('starting server');
    await container.start();
    const port = await this.hostPortOf(container, hostPort);
    const connection = this.connection(port);
    await waitForServer(container, connection, `snapshot "${job.name}"`);
    await applyRecipe(job, connection, { port, password: this.ctx.password }, progress);
    await stopCleanly(container);
  }
}

export function snapshotTag(hash: string): string {
  return `${SNAPSHOT_REPO}:${hash}`;
}

interface TarEntry {
  name: string;
  type: 'file' | 'directory';
  mode: number;
  uid: number;
  gid: number;
  content?: string;
}

/** A small tar archive (to create owned directories and files in a container without a shell as root). */
function tarOf(entries: TarEntry[]): Promise<Buffer> {
  const archive = pack();
  for (const e of entries) archive.entry({ name: e.name, type: e.type, mode: e.mode, uid: e.uid, gid: e.gid }, e.content ?? '');
  archive.finalize();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    archive.on('data', (c) => chunks.push(c as Buffer));
    archive.on('end', () => resolve(Buffer.concat(chunks)));
    archive.on('error', reject);
  });
}

/**
 * The address at which a Docker engine publishes ports: its host for `tcp://` and `ssh://` engines, 127.0.0.1
 * for a local socket (containers publish on 127.0.0.1 only).
 */
export function publishHostOf(dockerHost: string | undefined): string {
  if (!dockerHost || dockerHost.startsWith('unix://') || dockerHost.startsWith('npipe://')) return '127.0.0.1';
  try {
    const host = new URL(dockerHost.replace(/^tcp:/, 'http:')).hostname.replace(/^\[|\]$/g, '');
    return host || '127.0.0.1';
  } catch {
    return '127.0.0.1';
  }
}

/** `docker` CLI against the driver's engine, synchronously and best effort (exit handlers cannot wait for HTTP). */
export function dockerCliSync(args: string[], dockerHost = process.env.DOCKER_HOST): void {
  try {
    const env = dockerHost ? { ...process.env, DOCKER_HOST: dockerHost } : process.env;
    execFileSync('docker', args, { stdio: 'ignore', timeout: 10_000, env });
  } catch {
    // No CLI, or already gone: the next engine or `pgbranch gc` reaps it by its labels.
  }
}
