import { execFileSync } from 'node:child_process';

/** `docker` CLI against the driver's engine, synchronously and best effort (exit handlers cannot wait for HTTP). */
export function dockerCliSync(args: string[], dockerHost: string | undefined): void {
  try {
    const env = dockerHost ? { ...process.env, DOCKER_HOST: dockerHost } : process.env;
    execFileSync('docker', args, { stdio: 'ignore', timeout: 10_000, env });
  } catch {
    // No CLI, or already gone: the next engine or `pgbranch gc` reaps it by its labels.
  }
}
