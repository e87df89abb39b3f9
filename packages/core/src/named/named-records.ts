import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { CacheLayout } from '../cache/layout.js';
import { withLock } from '../cache/lock.js';
import { assertBranchName, listNamedDirs, readNamedMeta, writeNamedMeta, type NamedBranchMeta } from '../cache/named-record.js';
import { removeDir } from '../cloners/remove-dir.js';
import type { NamedRuntime } from '../drivers/named-runtime.js';
import { PgbranchError, UsageError } from '../errors.js';
import { processStartTime } from '../system/proc.js';

/** A named branch is missing. */
export class BranchNotFoundError extends PgbranchError {
  constructor(message: string) {
    super('PGBRANCH_BRANCH_NOT_FOUND', message);
  }
}

export interface CreateNamedOptions {
  /** Removed by the keeper or `pgbranch gc` this long after creation. */
  ttlMs?: number;
  labels?: Record<string, string>;
  /** Start the server right away. @default true */
  start?: boolean;
}

/**
 * The records of named branches: `<cache>/named/<name>/branch.json`, one directory per branch, every change
 * under the branch's lock. Records of another driver's branches are refused with the driver to use.
 */
export class NamedRecords {
  constructor(
    private readonly layout: CacheLayout,
    private readonly driverName: string,
  ) {}

  get root(): string {
    return path.join(this.layout.root, 'named');
  }
  dir(name: string): string {
    return path.join(this.root, name);
  }
  names(): Promise<string[]> {
    return listNamedDirs(this.root);
  }
  read(name: string): Promise<NamedBranchMeta | undefined> {
    return readNamedMeta(this.dir(name));
  }
  write(meta: NamedBranchMeta): Promise<void> {
    return writeNamedMeta(this.dir(meta.name), meta);
  }

  /** Branch operations take seconds at most: a lock left by a killed process goes stale after 4 s. */
  locked<T>(name: string, fn: () => Promise<T>): Promise<T> {
    assertBranchName(name); // the name becomes a path: checked before anything is made with it
    return withLock(path.join(this.layout.root, 'locks', `named-${name}.lock`), fn, { staleMs: 4000 });
  }

  /** The (emptied) directory of a branch about to be made. */
  async freshDir(name: string): Promise<string> {
    assertBranchName(name);
    await mkdir(this.root, { recursive: true, mode: 0o755 });
    const dir = this.dir(name);
    await removeDir(dir);
    await mkdir(dir, { recursive: true, mode: 0o755 });
    return dir;
  }

  /** The record of a branch being created (state `creating`, owned by this process until it is complete). */
  newRecord(name: string, options: CreateNamedOptions, driverFields: Partial<NamedBranchMeta>): NamedBranchMeta {
    const now = new Date().toISOString();
    return {
      version: 1,
      name,
      snapshot: { hash: '', name: '' },
      createdAt: now,
      lastUsedAt: now,
      expiresAt: options.ttlMs ? new Date(Date.now() + options.ttlMs).toISOString() : undefined,
      labels: options.labels ?? {},
      port: 0,
      driver: this.driverName,
      ...driverFields,
      state: 'creating',
      creator: { pid: process.pid, startTime: processStartTime(process.pid) },
    };
  }

  /** Refuses a branch of another driver, or one whose server runs where `runtime` does not reach (another Docker engine). */
  assertDriver(name: string, meta: Pick<NamedBranchMeta, 'driver' | 'docker'>, runtime: Pick<NamedRuntime, 'elsewhere'>): void {
    const driver = meta.driver ?? 'local';
    if (driver !== this.driverName) throw new UsageError(`Branch "${name}" runs on the ${driver} driver; use that driver for it (\`--driver ${driver}\`).`);
    const elsewhere = this.elsewhere(meta, runtime);
    if (elsewhere) {
      throw new UsageError(`Branch "${name}" runs on ${elsewhere}, not on this engine's; open it there (DOCKER_HOST or docker.dockerHost: the CLI does so by itself).`);
    }
  }

  /** Where a branch's server runs when `runtime` does not reach it there; undefined when it does. */
  elsewhere(meta: Pick<NamedBranchMeta, 'docker'> | undefined, runtime: Pick<NamedRuntime, 'elsewhere'>): string | undefined {
    return meta ? runtime.elsewhere?.(meta) : undefined;
  }

  async notFound(name: string): Promise<BranchNotFoundError> {
    const names = await this.names();
    return new BranchNotFoundError(
      `No branch named "${name}" in ${this.layout.root}${names.length ? ` (there are: ${names.join(', ')})` : ''}; \`pgbranch create ${name} --from SNAPSHOT\` makes one.`,
    );
  }
}
