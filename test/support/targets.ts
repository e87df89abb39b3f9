import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import type { ClonerName } from '@pgbranch/core';

/** A directory tree tests may write below, on a filesystem with some property, or why there is none here. */
export interface TestRoot {
  path: string;
  /** Why this filesystem is missing here, or undefined when it is there. */
  unavailable?: string;
}

const isRoot = process.getuid?.() === 0;

/** Where each cloner can be tested; CI mounts the XFS and btrfs filesystems (scripts/test-filesystems.sh). */
export function clonerRoot(cloner: ClonerName): TestRoot {
  switch (cloner) {
    case 'copy':
      return { path: os.tmpdir() };
    case 'overlay':
      return { path: os.tmpdir(), unavailable: isRoot ? undefined : 'overlay mounts need root' };
    case 'reflink':
      return onMount('PGBRANCH_TEST_REFLINK_DIR', 'a reflink filesystem (XFS with reflink=1)');
    case 'btrfs':
      return onMount('PGBRANCH_TEST_BTRFS_DIR', 'a btrfs filesystem');
  }
}

function onMount(env: string, what: string): TestRoot {
  const root = process.env[env];
  return { path: root ?? '', unavailable: root ? undefined : `${env} is not set: mount ${what} (sudo scripts/test-filesystems.sh up) and export it` };
}

/** A cloner and a cache directory on a filesystem where it can work. */
export interface ClonerTarget {
  cloner: ClonerName;
  /** Cache directory for this target, unique per test file. */
  cacheDir: (file: string) => string;
  /** Why this target cannot run here, or undefined when it can. */
  unavailable?: string;
}

/** A cloner of the local driver with its own cache directories (see clonerRoot). */
export function clonerTarget(cloner: ClonerName): ClonerTarget {
  const root = clonerRoot(cloner);
  return { cloner, cacheDir: (file) => path.join(root.path, 'pgbranch-test', cloner, file), unavailable: root.unavailable };
}

/**
 * Under CI (PGBRANCH_TEST_REQUIRE=all) a missing requirement fails the suite instead of skipping it,
 * so every strategy is exercised there.
 */
export function requireAll(): boolean {
  return process.env.PGBRANCH_TEST_REQUIRE === 'all';
}

/** A service of the test machine's stand-in fleet (scripts/test-registry.sh, scripts/test-docker-b.sh), or why there is none. */
export interface FleetService {
  /** Where it answers: host:port for a registry, tcp://host:port for a Docker engine. */
  address: string;
  /** Why it cannot be used here, or undefined when it answers. */
  unavailable?: string;
}

/** What GET http://address/v2/ answers (its status code), or the error, checked synchronously in a child process. */
function registryStatus(address: string): string {
  const probe = `require('http').get('http://${address}/v2/', { timeout: 3000 }, (r) => { console.log(r.statusCode); r.resume(); })` +
    `.on('error', (e) => console.log(e.code || e.message)).on('timeout', function () { this.destroy(new Error('no answer within 3 s')); });`;
  try {
    return execFileSync(process.execPath, ['-e', probe], { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch (err) {
    return (err as Error).message;
  }
}

function registryService(env: string, expected: string, start: string): FleetService {
  const address = process.env[env];
  if (!address) return { address: '', unavailable: `${env} is not set: ${start}` };
  const status = registryStatus(address);
  return { address, unavailable: status === expected ? undefined : `the registry at ${env}=${address} answers ${status} to GET /v2/ (expected ${expected}): ${start}` };
}

const REGISTRY_START = 'eval "$(sudo scripts/test-registry.sh up)"';

/** The open OCI registry on 127.0.0.1 (PGBRANCH_TEST_REGISTRY=host:port). */
export function registry(): FleetService {
  return registryService('PGBRANCH_TEST_REGISTRY', '200', REGISTRY_START);
}

/** The registry behind basic auth (PGBRANCH_TEST_REGISTRY_AUTH, user and password in …_AUTH_USER and …_AUTH_PASSWORD). */
export function authRegistry(): FleetService & { user: string; password: string } {
  const service = registryService('PGBRANCH_TEST_REGISTRY_AUTH', '401', REGISTRY_START);
  const user = process.env.PGBRANCH_TEST_REGISTRY_AUTH_USER ?? '';
  const password = process.env.PGBRANCH_TEST_REGISTRY_AUTH_PASSWORD ?? '';
  const unavailable = service.unavailable ?? (user && password ? undefined : `PGBRANCH_TEST_REGISTRY_AUTH_USER and _PASSWORD are not set: ${REGISTRY_START}`);
  return { ...service, unavailable, user, password };
}

/**
 * The second Docker engine standing in for another machine (PGBRANCH_TEST_DOCKER_B=tcp://127.0.0.1:PORT), with the
 * test image loaded.
 */
export function dockerB(image = process.env.PGBRANCH_TEST_DOCKER_IMAGE ?? 'pgbranch-test/postgres:18'): FleetService {
  const address = process.env.PGBRANCH_TEST_DOCKER_B;
  const start = 'eval "$(sudo scripts/test-docker-b.sh up)"';
  if (!address) return { address: '', unavailable: `PGBRANCH_TEST_DOCKER_B is not set: ${start}` };
  const env = { ...process.env, DOCKER_HOST: address };
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 10_000, env });
  } catch {
    return { address, unavailable: `no Docker engine answers at PGBRANCH_TEST_DOCKER_B=${address}: ${start}` };
  }
  try {
    execFileSync('docker', ['image', 'inspect', image], { stdio: 'ignore', timeout: 10_000, env });
  } catch {
    return { address, unavailable: `the engine at ${address} has no ${image}: ${start} loads it` };
  }
  return { address };
}
