import { execFileSync } from 'node:child_process';

export const TEST_IMAGE = process.env.PGBRANCH_TEST_DOCKER_IMAGE ?? 'pgbranch-test/postgres:18';

/** Why Docker tests cannot run here, or undefined when an engine answers and the test image exists. */
export function dockerUnavailable(): string | undefined {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 10_000 });
  } catch {
    return 'no Docker engine answers (scripts/docker-setup.sh starts one)';
  }
  try {
    execFileSync('docker', ['image', 'inspect', TEST_IMAGE], { stdio: 'ignore' });
  } catch {
    return `the test image ${TEST_IMAGE} is missing (scripts/build-test-image.sh builds it)`;
  }
  return undefined;
}

/** Containers (running or not) labelled with this cache directory, and with an owner session if given. */
export function containersOf(cacheDir: string, session?: string): string[] {
  const filters = ['--filter', `label=org.pgbranch.cache-dir=${cacheDir}`, ...(session ? ['--filter', `label=org.pgbranch.session=${session}`] : [])];
  return execFileSync('docker', ['ps', '-aq', ...filters], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

/** Snapshot-of-branch images of this cache directory (of one owner session if given). */
export function ephemeralImagesOf(cacheDir: string, session?: string): string[] {
  const owner = session ? `label=org.pgbranch.ephemeral-owner=${session}` : 'label=org.pgbranch.ephemeral-owner';
  return execFileSync('docker', ['images', '-q', '--filter', `label=org.pgbranch.cache-dir=${cacheDir}`, '--filter', owner], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
}

/** A container's state as Docker reports it ("running", "exited", …). */
export function containerState(id: string): string {
  return execFileSync('docker', ['inspect', '-f', '{{.State.Status}}', id], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** A container's state, or undefined when no such container exists. */
export function containerStateIfAny(id: string): string | undefined {
  try {
    return containerState(id);
  } catch {
    return undefined;
  }
}

/** The host pid of a running container's first process (its postgres: containers run it directly). */
export function containerPid(id: string): number {
  return Number(execFileSync('docker', ['inspect', '-f', '{{.State.Pid}}', id], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim());
}
