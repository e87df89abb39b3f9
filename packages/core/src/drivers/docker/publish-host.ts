import type { DockerOptions } from './docker-options.js';

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

/**
 * Where this host reaches the servers of the engine: `publishHost` when set (an engine whose published ports
 * are reached at another address), else derived from the engine's address (`dockerHost`, else DOCKER_HOST).
 */
export function publishHostFor(options: Pick<DockerOptions, 'dockerHost' | 'publishHost'>, env: NodeJS.ProcessEnv = process.env): string {
  return options.publishHost || publishHostOf(options.dockerHost ?? env.DOCKER_HOST);
}
