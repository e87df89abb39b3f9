import type { Cloner } from '../cloners/cloner.js';
import { CopyCloner } from '../cloners/copy-cloner.js';
import { selectCloner, type ProbeResult } from '../cloners/select-cloner.js';
import { assertDockerReachable, dockerClient } from '../drivers/docker/docker-client.js';
import { DockerDriver } from '../drivers/docker/docker-driver.js';
import { probeImage, type ImageInfo } from '../drivers/docker/image-probe.js';
import { DockerBindDriver } from '../drivers/docker/docker-bind-driver.js';
import type Docker from 'dockerode';
import type { Driver } from '../drivers/driver.js';
import { findBinaries, type PostgresBinaries } from '../drivers/local/binaries.js';
import { LocalDriver } from '../drivers/local/local-driver.js';
import { BinariesNotFoundError, describeCause, NoPostgresError, UsageError } from '../errors.js';
import type { ResolvedOptions } from '../options.js';
import { assertReachable, type RunAs } from '../system/run-as.js';
import type { EngineContext } from './context.js';
import type { CacheLayout } from '../cache/layout.js';

/** What a driver needs settled before the engine's context exists. */
export interface DriverSetup {
  name: 'local' | 'docker';
  cloner: Cloner;
  /** Cloner (local) or storage (docker), for info() and doctor. */
  storage: string;
  storageReason: string;
  probes: ProbeResult[];
  binaries: PostgresBinaries | undefined;
  major: number;
  /** Image name (docker). */
  image: string | undefined;
  make(ctx: EngineContext): Driver;
}

/**
 * Settles the driver: 'local' needs binaries and a cloner for the cache directory; 'docker' needs a
 * reachable engine and an image with Postgres; 'auto' is local when binaries are installed, else Docker.
 * Installed binaries that cannot run are an error under 'auto' too (BinariesUnusableError): falling back
 * would hide the fix and fail later for another reason.
 */
export async function setupDriver(options: ResolvedOptions, layout: CacheLayout, runAs: RunAs, use: { probeCloners?: boolean } = {}): Promise<DriverSetup> {
  if (options.driver === 'docker') return setupDocker(options, layout);
  if (options.driver === 'local') return setupLocal(options, layout, runAs, use.probeCloners ?? true);
  let noLocal: BinariesNotFoundError;
  try {
    return await setupLocal(options, layout, runAs, use.probeCloners ?? true);
  } catch (err) {
    if (!(err instanceof BinariesNotFoundError)) throw err;
    noLocal = err;
  }
  try {
    return await setupDocker(options, layout);
  } catch (err) {
    throw new NoPostgresError(
      `driver 'auto' found no way to run Postgres. Local: ${noLocal.message} Docker: ${describeCause(err)} ` +
        'Install one of the two (the local binaries need no Docker), or set driver explicitly.',
      { cause: err },
    );
  }
}

/** Without probing (an engine that clones nothing: probes write to the cache directory), the copy cloner stands in. */
async function setupLocal(options: ResolvedOptions, layout: CacheLayout, runAs: RunAs, probe: boolean): Promise<DriverSetup> {
  const binaries = await findBinaries({ binDir: options.binDir, cacheDir: layout.root });
  await assertReachable(runAs, layout.root, 'cache directory');
  await assertReachable(runAs, binaries.binDir, 'Postgres binaries in');
  if (binaries.libraryDir) await assertReachable(runAs, binaries.libraryDir, 'Postgres library links in');
  const choice = probe ? await selectCloner(options.cloner, layout.root) : { cloner: new CopyCloner(), reason: 'not probed: this engine clones nothing', probes: [] };
  return {
    name: 'local',
    cloner: choice.cloner,
    storage: choice.cloner.name,
    storageReason: choice.reason,
    probes: choice.probes,
    binaries,
    major: binaries.major,
    image: undefined,
    make: (ctx) => new LocalDriver(ctx),
  };
}

async function setupDocker(options: ResolvedOptions, layout: CacheLayout): Promise<DriverSetup> {
  const docker = await dockerClient(options.docker.dockerHost);
  await assertDockerReachable(docker, options.docker.dockerHost);
  const image = await probeImage(docker, options.docker.image);
  if (options.docker.storage === 'bind') return setupDockerBind(options, layout, docker, image);
  if (options.docker.storage === 'auto' && bindPossible(options)) {
    const choice = await selectCloner('auto', layout.root);
    if (choice.cloner.name === 'btrfs' || choice.cloner.name === 'reflink') return setupDockerBind(options, layout, docker, image);
  }
  return {
    name: 'docker',
    cloner: new CopyCloner(), // not used: the storage driver copies on write
    storage: 'docker-layers',
    storageReason: `docker: snapshot images, branch containers copy-on-write in the storage driver (network ${options.docker.network})`,
    probes: [],
    binaries: undefined,
    major: image.major,
    image: options.docker.image,
    make: (ctx) => new DockerDriver(ctx, docker, image, { network: options.docker.network }),
  };
}

/** Bind mounts need the cache directory on the engine's host, and root to hand clones to the image's user. */
function bindPossible(options: ResolvedOptions): boolean {
  const host = options.docker.dockerHost ?? process.env.DOCKER_HOST;
  return (!host || host.startsWith('unix://')) && process.getuid?.() === 0;
}

async function setupDockerBind(options: ResolvedOptions, layout: CacheLayout, docker: Docker, image: ImageInfo): Promise<DriverSetup> {
  if (!bindPossible(options)) {
    throw new UsageError(
      "Docker bind storage needs a local engine (the cache directory is mounted into containers) and root (clones are handed to the image's postgres user). Use storage: 'image'.",
    );
  }
  const choice = await selectCloner(options.cloner, layout.root);
  return {
    name: 'docker',
    cloner: choice.cloner,
    storage: choice.cloner.name,
    storageReason: `docker with bind-mounted ${choice.reason} (network ${options.docker.network})`,
    probes: choice.probes,
    binaries: undefined,
    major: image.major,
    image: options.docker.image,
    make: (ctx) => new DockerBindDriver(ctx, docker, image, { network: options.docker.network }, choice.cloner),
  };
}
