import { loadCacheId, readCacheId } from '../../cache/cache-id.js';
import { CopyCloner } from '../../cloners/copy-cloner.js';
import { selectCloner } from '../../cloners/select-cloner.js';
import { UsageError } from '../../errors.js';
import { defaultSettings } from '../../snapshot/postgres-settings.js';
import { resolveRunAs } from '../../system/run-as.js';
import type { DriverContext } from '../context.js';
import type { Driver, DriverInfo, DriverRegistration } from '../driver.js';
import type { DriverRequest } from '../driver-request.js';
import { BindClones } from './bind-clones.js';
import { assertDockerReachable, dockerClient } from './docker-client.js';
import { DockerDriver } from './docker-driver.js';
import { ImageLayers } from './image-layers.js';
import { probeImage } from './image-probe.js';
import { publishHostFor } from './publish-host.js';
import { ServerContainers } from './server-containers.js';

/** Postgres in containers: snapshot images and copy-on-write container layers, or bind-mounted host clones. */
export const dockerRegistration: DriverRegistration = {
  name: 'docker',
  summary: 'a container per branch (snapshot images, or bind-mounted host clones)',
  auto: true,
  create: createDockerDriver,
};

async function createDockerDriver(request: DriverRequest): Promise<Driver> {
  const options = request.docker;
  const docker = await dockerClient(options.dockerHost);
  await assertDockerReachable(docker, options.dockerHost);
  const image = await probeImage(docker, options.image);
  const ctx: DriverContext = {
    layout: request.layout,
    session: request.session,
    cloner: new CopyCloner(),
    // Containers run as their image's user: no account of this cache's own.
    runAs: resolveRunAs(request.user),
    settings: { ...defaultSettings(image.major), ...request.settings },
    password: request.password,
  };
  const containers = new ServerContainers({
    docker,
    image,
    network: options.network,
    dockerHost: options.dockerHost,
    publishHost: publishHostFor(options),
    layout: ctx.layout,
    // Only a building engine writes the identity ('maintain' must work on a full disk, 'read' writes nothing): a cache
    // without one has only unlabelled containers, which stay selected by their path as before.
    cacheId: request.use === 'build' ? await loadCacheId(ctx.layout.cacheId) : await readCacheId(ctx.layout.cacheId),
    sessionId: ctx.session.id,
    settings: ctx.settings,
    password: ctx.password,
  });
  const network = `network ${options.network}`;
  const info = { postgresVersion: image.version, binariesFrom: 'image', image: options.image, serverUser: `${options.image} (${image.user})`, probes: [] };
  if (options.storage === 'bind' || (options.storage === 'auto' && bindPossible(request))) {
    if (options.storage === 'bind' && !bindPossible(request)) {
      throw new UsageError(
        "Docker bind storage needs a local engine (the cache directory is mounted into containers) and root (clones are handed to the image's postgres user). Use storage: 'image'.",
      );
    }
    const choice = await selectCloner(options.storage === 'bind' ? request.cloner : 'auto', request.layout.root);
    if (options.storage === 'bind' || choice.cloner.name === 'btrfs' || choice.cloner.name === 'reflink') {
      const bindInfo: DriverInfo = { ...info, storage: choice.cloner.name, storageReason: `docker with bind-mounted ${choice.reason} (${network})`, probes: choice.probes };
      return new DockerDriver({ ...ctx, cloner: choice.cloner }, containers, new BindClones(containers, choice.cloner), bindInfo);
    }
  }
  return new DockerDriver(ctx, containers, new ImageLayers(containers), {
    ...info,
    storage: 'docker-layers',
    storageReason: `docker: snapshot images, branch containers copy-on-write in the storage driver (${network})`,
  });
}

/** Bind mounts need the cache directory on the engine's host, and root to hand clones to the image's user. */
function bindPossible(request: DriverRequest): boolean {
  const host = request.docker.dockerHost ?? process.env.DOCKER_HOST;
  return (!host || host.startsWith('unix://')) && process.getuid?.() === 0;
}
