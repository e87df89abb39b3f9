import type { DockerDriver } from '../drivers/docker/docker-driver.js';
import type { Driver } from '../drivers/driver.js';
import { describeCause } from '../errors.js';
import { logger } from '../log.js';
import type { StoredSnapshot } from '../snapshot/stored-snapshot.js';
import { DataImageTransport } from './data-image.js';
import { registryFailure } from './registry-failure.js';
import { snapshotRef, type RegistryOptions } from './registry-options.js';
import { SnapshotImageTransport } from './snapshot-image.js';
import type { RegistryTransport } from './transport.js';

const log = logger('registry');
/** Where dockerode goes when nothing names an engine. */
const DEFAULT_DOCKER_HOST = process.platform === 'win32' ? 'npipe:////./pipe/docker_engine' : 'unix:///var/run/docker.sock';

/** Where a warning goes: the user's terminal (a registry problem never fails a run, but must not pass unseen). */
export type Warn = (message: string) => void;
const toStderr: Warn = (message) => void process.stderr.write(`pgbranch: warning: ${message}\n`);

/**
 * An image registry as a remote cache of snapshots, keyed by content hash: looked up before seeding, fed after.
 * Every failure (unreachable, 401, no docker CLI, a broken image) is a warning, after which the engine seeds locally;
 * pushes run in the background and `settle()` waits for them. Two machines pushing the same hash push the same
 * content under the same tag, which the registry's content addressing makes harmless.
 */
export class SnapshotRegistry {
  private readonly transport: RegistryTransport;
  private readonly tagSuffix: string;
  private readonly pushes = new Set<Promise<void>>();
  /** After a failure that will not mend within a run (unreachable, no engine, stalled), nothing more is tried. */
  private disabled = false;

  constructor(
    readonly options: RegistryOptions,
    driver: Driver,
    dockerHost: string | undefined,
    private readonly warn: Warn = toStderr,
  ) {
    const imageStored = driver.name === 'docker' && (driver as DockerDriver).storage.kind === 'image';
    // The docker driver's transport mixes the CLI and dockerode: both must reach the same engine, whatever the
    // CLI's current context says.
    const host = driver.name === 'docker' ? (dockerHost ?? process.env.DOCKER_HOST ?? DEFAULT_DOCKER_HOST) : dockerHost;
    const docker = { dockerHost: host, idleTimeoutMs: options.idleTimeoutMs };
    this.transport = imageStored ? new SnapshotImageTransport(driver as DockerDriver, docker) : new DataImageTransport(driver, docker);
    // Two formats for one hash (docker image and bind storage share hashes): tagged apart, so neither overwrites the other.
    this.tagSuffix = imageStored ? '' : '-archive';
  }

  /** The snapshot `hash` pulled from the registry and stored here, or undefined (not there, or the registry failed: warned). */
  async pull(hash: string, name: string): Promise<StoredSnapshot | undefined> {
    if (this.disabled) return undefined;
    const ref = snapshotRef(this.options.repository, hash + this.tagSuffix);
    const started = Date.now();
    try {
      const stored = await this.transport.pull(ref, hash).catch((err: unknown) => {
        if (!vanished(err)) throw err;
        log('%s vanished after its pull (another process removed the tag): pulling again', ref);
        return this.transport.pull(ref, hash);
      });
      log('pulled %s in %d ms', ref, Date.now() - started);
      return stored;
    } catch (err) {
      const outcome = registryFailure(err, ref, 'looking up');
      if (outcome.kind === 'missing') {
        log('%s is not in the registry (%d ms)', ref, Date.now() - started);
        return undefined;
      }
      this.fail(`${outcome.error.message} Seeding snapshot "${name}" here instead.`, outcome.error.code);
      return undefined;
    }
  }

  /** Pushes a snapshot seeded here, in the background (see settle()). */
  push(snapshot: StoredSnapshot): void {
    if (this.disabled || !this.options.push || snapshot.kind !== 'recipe' || snapshot.ephemeralOwner) return;
    const ref = snapshotRef(this.options.repository, snapshot.hash + this.tagSuffix);
    const started = Date.now();
    const pushing = this.transport.push(snapshot, ref).then(
      () => log('pushed %s in %d ms', ref, Date.now() - started),
      (err: unknown) => {
        const outcome = registryFailure(err, ref, 'pushing');
        const message = outcome.kind === 'failed' ? outcome.error.message : `Snapshot registry: pushing ${ref} failed: ${describeCause(err)}.`;
        this.fail(`${message} Other machines will seed snapshot "${snapshot.name}" themselves.`, outcome.kind === 'failed' ? outcome.error.code : '');
      },
    );
    this.pushes.add(pushing);
    void pushing.finally(() => this.pushes.delete(pushing));
  }

  /** Waits for the pushes under way. */
  async settle(): Promise<void> {
    while (this.pushes.size > 0) await Promise.allSettled([...this.pushes]);
  }

  private fail(message: string, code: string): void {
    if (['PGBRANCH_REGISTRY_UNREACHABLE', 'PGBRANCH_REGISTRY_NO_DOCKER', 'PGBRANCH_REGISTRY_STALLED'].includes(code)) this.disabled = true;
    this.warn(message);
  }
}

/** An image that was pulled a moment ago is gone: another process on the same engine untagged it after its own pull. */
function vanished(err: unknown): boolean {
  const text = err instanceof Error ? `${err.message} ${(err as { stderr?: string }).stderr ?? ''}` : '';
  return (err as { statusCode?: number })?.statusCode === 404 || /no such image/i.test(text);
}
