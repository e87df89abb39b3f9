import Docker from 'dockerode';
import { PgbranchError, describeCause } from '../../errors.js';

/** Docker is not reachable: says how to start it, or to use the local driver. */
export class DockerUnavailableError extends PgbranchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PGBRANCH_DOCKER_UNAVAILABLE', message, options);
  }
}

/** A dockerode client for `dockerHost`, else DOCKER_HOST, else the default socket. */
export function dockerClient(dockerHost?: string): Docker {
  const host = dockerHost ?? process.env.DOCKER_HOST;
  if (!host) return new Docker();
  if (host.startsWith('unix://')) return new Docker({ socketPath: host.slice('unix://'.length) });
  const url = new URL(host.replace(/^tcp:/, 'http:'));
  return new Docker({ host: url.hostname, port: Number(url.port || 2375), protocol: url.protocol === 'https:' ? 'https' : 'http' });
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
