import { randomBytes } from 'node:crypto';
import { readKeeper } from '../cache/keeper-record.js';
import type { CacheLayout } from '../cache/layout.js';
import type { NamedBranchMeta } from '../cache/named-record.js';
import { removeDir } from '../cloners/remove-dir.js';
import { socketConnection } from '../drivers/address.js';
import type { Driver } from '../drivers/driver.js';
import type { LiveServer, NamedRuntime } from '../drivers/named-runtime.js';
import { describeCause, ServerStartError, UsageError } from '../errors.js';
import { logger } from '../log.js';
import type { StoredSnapshot } from '../snapshot/stored-snapshot.js';
import { applyBranchPassword, newBranchPassword, readBranchPassword, readParentPassword } from './branch-credentials.js';
import type { NamedRecords } from './named-records.js';

const log = logger('named');

/** What named branches need from their engine. */
export interface NamedContext {
  layout: CacheLayout;
  driver: Driver;
  /** The cache directory's superuser password: what a snapshot's data carries before a branch gets its own. */
  password: string;
}

/**
 * The server side of named branches: starting, stopping, recloning and removing through the driver's
 * NamedRuntime, and the branch's own credentials. Every method is called under the branch's lock.
 */
export class NamedServers {
  readonly runtime: NamedRuntime;

  constructor(
    private readonly ctx: NamedContext,
    private readonly records: NamedRecords,
  ) {
    this.runtime = ctx.driver.named((name) => records.dir(name));
  }

  /** The stored snapshot a branch was made from; a UsageError when it is gone from the cache. */
  async parentOf(meta: NamedBranchMeta): Promise<StoredSnapshot> {
    const snap = await this.ctx.driver.findSnapshot(meta.snapshot.hash);
    if (!snap) {
      throw new UsageError(
        `Branch "${meta.name}": its snapshot "${meta.snapshot.name}" (${meta.snapshot.hash.slice(0, 12)}) is no longer in the cache, so it cannot be reset; ` +
          'create a new branch from a current snapshot instead.',
      );
    }
    return snap;
  }

  /**
   * Starts the branch's server on its port (a new free port the first time) and records it in `meta`. `onServing`
   * is called once clients can connect with the branch's URL (see NamedRuntime.start), at the latest when the
   * server is started and has the branch's own password.
   */
  async start(meta: NamedBranchMeta, parent: StoredSnapshot, why: string, onServing?: () => Promise<void> | void): Promise<void> {
    try {
      // Data still carrying another password opens to the branch's URL only once ownCredentials has set its own.
      const own = meta.credentials === 'own';
      await this.runtime.start(meta, parent, this.dataPassword(meta), own ? onServing : undefined);
      if (!own) {
        await this.ownCredentials(meta);
        await onServing?.();
      }
      log('%s %s on port %d', meta.name, why, meta.port);
    } catch (err) {
      if (err instanceof ServerStartError && meta.port && /could not bind|already in use/i.test(err.logTail)) {
        const keeper = await readKeeper(this.ctx.layout.root, this.ctx.driver.name);
        throw new ServerStartError(
          `Branch "${meta.name}" cannot start on its port ${meta.port}: the port is in use by ` +
            (keeper ? `\`pgbranch serve\` (pid ${keeper.pid}), which wakes the branch when a client connects to it.` : 'another process. Free the port (its URL keeps this port) and resume again.'),
          err.logTail,
          { cause: err },
        );
      }
      throw err;
    }
  }

  /** Stops the server cleanly (data kept) and records the branch as suspended. */
  async stopAndRecord(meta: NamedBranchMeta, server: LiveServer | undefined): Promise<void> {
    if (server) await this.runtime.stop(meta, server, 'fast');
    meta.state = 'suspended';
    delete meta.server;
    await this.records.write(meta);
  }

  /** Replaces the data with a fresh copy of `parent` (which carries its snapshot's password again). */
  async reclone(meta: NamedBranchMeta, parent: StoredSnapshot): Promise<void> {
    delete meta.credentials;
    await this.runtime.discard(meta);
    await this.runtime.prepare(meta, parent);
  }

  /** Freezes a branch's current state as a snapshot (a clean stop for a consistent copy), then starts it again. */
  async freeze(meta: NamedBranchMeta, forName: string): Promise<StoredSnapshot> {
    const parent = await this.parentOf(meta);
    const server = await this.runtime.live(meta);
    if (server) await this.runtime.stop(meta, server, 'fast');
    try {
      const hash = `${parent.hash.slice(0, 12)}-${meta.name}-${randomBytes(3).toString('hex')}`;
      return await this.runtime.freeze(meta, { name: `${meta.name}@${new Date().toISOString()} (for ${forName})`, hash, from: parent });
    } finally {
      if (server) {
        await this.start(meta, parent, 'restarted');
        await this.records.write(meta);
      }
    }
  }

  /**
   * Removes a snapshot frozen for named branches once no branch needs it and no stored snapshot was made from it
   * (a branch made from a branch made from this one descends from it: diff and merge find common ancestors by it).
   */
  async dropFrozenSnapshot(hash: string, inUse: Set<string>): Promise<void> {
    if (inUse.has(hash)) return;
    if ((await this.ctx.driver.listSnapshots()).some((s) => s.parent === hash)) return;
    const snap = await this.ctx.driver.findSnapshot(hash);
    if (snap) await this.ctx.driver.removeSnapshot(snap);
  }

  /** Stops the server and removes everything of the branch (directory, socket directory, container). */
  async removeAll(meta: NamedBranchMeta): Promise<void> {
    const server = await this.runtime.live(meta);
    if (server) await this.runtime.stop(meta, server, 'immediate');
    await this.runtime.removeOutside(meta);
    await removeDir(this.records.dir(meta.name));
  }

  /** A connection for pgbranch's own queries, with the password the branch's data has right now. */
  probe(meta: NamedBranchMeta): ReturnType<typeof socketConnection> {
    return socketConnection(this.runtime.address(meta, this.dataPassword(meta)));
  }

  /** The superuser password the branch's data carries right now: its own, its parent branch's, or the cache's. */
  dataPassword(meta: NamedBranchMeta): string {
    const dir = this.records.dir(meta.name);
    return (meta.credentials === 'own' ? readBranchPassword(dir) : readParentPassword(dir)) ?? this.ctx.password;
  }

  /** The password a branch's URL carries (its own once it has one). */
  urlPassword(name: string): string {
    return readBranchPassword(this.records.dir(name)) ?? this.ctx.password;
  }

  /**
   * Gives a freshly cloned (or created, or kept) branch's data its own superuser password, so its URL opens it
   * alone. Local servers take the change over the socket (root's peer authentication, or the owner's trust);
   * containers over TCP with the password the data carries (dataPassword).
   */
  async ownCredentials(meta: NamedBranchMeta): Promise<void> {
    const dir = this.records.dir(meta.name);
    const own = readBranchPassword(dir) ?? (await newBranchPassword(dir));
    try {
      await applyBranchPassword(this.probe(meta), own);
    } catch (err) {
      throw new ServerStartError(`Branch "${meta.name}": could not set its own password: ${describeCause(err)}`, '', { cause: err });
    }
    meta.credentials = 'own';
  }
}
