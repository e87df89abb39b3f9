import type Docker from 'dockerode';
import { PgbranchError, describeCause } from '../../errors.js';

/** Docker is not reachable: says how to start it, or to use the local driver. */
export class DockerUnavailableError extends PgbranchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PGBRANCH_DOCKER_UNAVAILABLE', message, options);
  }
}

/** The docker driver was asked for, but its optional peer `dockerode` is not installed: says how to add it. */
export class DockerodeMissingError extends PgbranchError {
  constructor(options?: { cause?: unknown }) {
    super(
      'PGBRANCH_DOCKERODE_MISSING',
      'The docker driver needs the dockerode package, which is not installed in this project: ' +
        'npm install -D dockerode (pnpm add -D dockerode, yarn add -D dockerode). ' +
        "Or use the local driver (driver: 'local'), which runs the embedded PostgreSQL binaries and needs no Docker.",
      options,
    );
  }
}

/** The dockerode client class (its default export). */
export type DockerodeClass = typeof Docker;

/** Imports the dockerode module; a parameter so that a missing install can be tested without uninstalling it. */
export type ImportDockerode = () => Promise<{ default: DockerodeClass }>;

const importDockerode: ImportDockerode = () => import('dockerode');

/**
 * Loads dockerode on first use. It is an optional peer dependency: users who never touch Docker do not install it
 * (nor the native modules it pulls in), so nothing may import it before the docker driver or `gc` needs it.
 */
export async function loadDockerode(importModule: ImportDockerode = importDockerode): Promise<DockerodeClass> {
  try {
    return (await importModule()).default;
  } catch (err) {
    if (isDockerodeNotFound(err)) throw new DockerodeMissingError({ cause: err });
    throw err; // dockerode is there but broken (e.g. one of its own dependencies is missing): the original says more
  }
}

/** Node's error for an import of a package that is not installed, naming dockerode itself (not one of its dependencies). */
function isDockerodeNotFound(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  return /Cannot find (package|module) 'dockerode'/.test(describeCause(err));
}

/** A dockerode client for `dockerHost`, else DOCKER_HOST, else the default socket. Throws {@link DockerodeMissingError}. */
export async function dockerClient(dockerHost?: string, importModule?: ImportDockerode): Promise<Docker> {
  const Dockerode = await loadDockerode(importModule);
  return new Dockerode(dockerodeOptions(dockerHost));
}

/** Where dockerode looks for the engine when neither an address nor DOCKER_HOST is given. */
export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

/** The engine an address means: an explicit one, else DOCKER_HOST, else the default socket. */
export function effectiveDockerHost(dockerHost: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return dockerHost || env.DOCKER_HOST || DEFAULT_DOCKER_HOST;
}

/**
 * How dockerode reaches the engine at `dockerHost`. Without one, dockerode reads DOCKER_HOST itself (with
 * DOCKER_TLS_VERIFY, DOCKER_CERT_PATH and ssh:// engines), so nothing is passed; nor when it is DOCKER_HOST's engine
 * (one recorded from it), so that its TLS settings still apply.
 */
export function dockerodeOptions(dockerHost: string | undefined, env: NodeJS.ProcessEnv = process.env): Docker.DockerOptions | undefined {
  if (!dockerHost || dockerHost === env.DOCKER_HOST) return undefined;
  if (dockerHost.startsWith('unix://')) return { socketPath: dockerHost.slice('unix://'.length) };
  const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
  if (url.protocol === 'ssh:') {
    // The engine is reached through `docker system dial-stdio` over ssh, authenticated by the ssh agent.
    return { protocol: 'ssh', host: url.hostname, port: Number(url.port || 22), username: url.username || undefined, sshOptions: { agent: env.SSH_AUTH_SOCK } };
  }
  return { host: url.hostname, port: Number(url.port || 2375), protocol: url.protocol === 'https:' ? 'https' : 'http' };
}

/**
 * Like {@link dockerClient}, but `undefined` when dockerode is not installed: for work that looks after Docker
 * resources only if there can be any (`pgbranch gc`), and must not fail for users who never use Docker.
 */
export async function dockerClientIfInstalled(dockerHost?: string, importModule?: ImportDockerode): Promise<Docker | undefined> {
  try {
    return await dockerClient(dockerHost, importModule);
  } catch (err) {
    if (err instanceof DockerodeMissingError) return undefined;
    throw err;
  }
}

/** Pings the engine; a clear error with the next step when nothing answers. */
export async function assertDockerReachable(docker: Docker, dockerHost?: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no answer within 5 s')), 5000)));
    await Promise.race([docker.ping(), timeout]);
  } catch (err) {
    const where = dockerHost ?? process.env.DOCKER_HOST ?? '/var/run/docker.sock';
    throw new DockerUnavailableError(
      `Docker is not reachable at ${where}: ${describeCause(err)}. Start the Docker engine (e.g. \`dockerd\` or Docker Desktop), ` +
        "set DOCKER_HOST, or use the local driver (driver: 'local', the default when Postgres binaries are installed).",
      { cause: err },
    );
  } finally {
    clearTimeout(timer); // a pending timer would keep the process (and test runners) alive for 5 s
  }
}
