import { randomBytes } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { removeDir } from '../cloners/remove-dir.js';
import { freePort } from '../drivers/local/ports.js';
import type { CacheLayout } from '../cache/layout.js';
import type { Driver } from '../drivers/driver.js';
import { addressUrl, socketConnection } from '../drivers/address.js';
import { describeCause, PgbranchError, ServerStartError, UsageError } from '../errors.js';
import { logger } from '../log.js';
import type { SnapshotMeta } from '../snapshot/snapshot-meta.js';
import { withLock } from '../cache/lock.js';
import type { Snapshot } from '../branch/branch.js';
import type { Branch } from '../branch/branch.js';
import { isAlive, processStartTime } from '../system/proc.js';
import { clientConnections } from './activity.js';
import { readKeeper } from '../cache/keeper-record.js';
import { assertBranchName, listNamedDirs, readNamedMeta, readNamedMetaSync, writeNamedMeta, type NamedBranchMeta } from '../cache/named-record.js';
import type { LiveServer, NamedRuntime } from '../drivers/named-runtime.js';
import { wakeThroughFront } from './wake.js';
import { applyBranchPassword, newBranchPassword, readBranchPassword, readParentPassword, writeParentPassword } from './branch-credentials.js';

const log = logger('named');

/** What named branches need from their engine. */
export interface NamedContext {
  layout: CacheLayout;
  driver: Driver;
  /** The cache directory's superuser password: what a snapshot's data carries before a branch gets its own. */
  password: string;
}

/** A named branch is missing. */
export class BranchNotFoundError extends PgbranchError {
  constructor(message: string) {
    super('PGBRANCH_BRANCH_NOT_FOUND', message);
  }
}

export type NamedBranchState = 'running' | 'idle' | 'suspended' | 'creating' | 'broken';

/** A named branch as listed: its record plus what is true right now. */
export interface NamedBranchInfo extends Omit<NamedBranchMeta, 'state' | 'server' | 'creator' | 'version'> {
  state: NamedBranchState;
  /** Client connections right now (running branches). */
  connections?: number;
  /** Server process id while running. */
  pid?: number;
  /** Why a branch is broken, or that a running branch's server stopped unexpectedly. */
  problem?: string;
  expired: boolean;
  dir: string;
}

export interface CreateNamedOptions {
  /** Removed by the keeper or `pgbranch gc` this long after creation. */
  ttlMs?: number;
  labels?: Record<string, string>;
  /** Start the server right away. @default true */
  start?: boolean;
}

/**
 * Long-lived branches with names, kept in `<cache>/named/<name>/` across processes: they belong to no engine
 * session, so closing an engine or a crash leaves them as they are. Every change to one happens under its lock.
 */
export class NamedBranches {
  private readonly runtime: NamedRuntime;

  constructor(
    private readonly ctx: NamedContext,
    /** A running branch without client connections for this long is shown as idle. */
    private readonly idleAfterMs = 5 * 60_000,
  ) {
    this.runtime = ctx.driver.named((name) => this.dir(name));
  }

  get root(): string {
    return path.join(this.ctx.layout.root, 'named');
  }
  dir(name: string): string {
    return path.join(this.root, name);
  }
  /** The branch's unix socket directory, where its driver offers one (connect with host set to it). */
  socketDir(name: string): string | undefined {
    const meta = readNamedMetaSync(this.dir(name));
    return meta ? this.runtime.address(meta, '').socketDir : undefined;
  }

  /**
   * The URL of a named branch, with the branch's own password: it opens this branch only, not its siblings
   * (contains the password; print it only where the user asked for it).
   */
  url(info: Pick<NamedBranchInfo, 'port' | 'name'>): string {
    const password = readBranchPassword(this.dir(info.name)) ?? this.ctx.password;
    const meta = readNamedMetaSync(this.dir(info.name));
    if (!meta) throw new BranchNotFoundError(`No branch named "${info.name}" in ${this.ctx.layout.root}.`);
    return addressUrl(this.runtime.address({ ...meta, port: info.port }, password));
  }

  /** Creates `name` from a snapshot, or from another named branch (by name: its state at this moment), and starts it. */
  async create(name: string, from: Snapshot | string, options: CreateNamedOptions = {}): Promise<NamedBranchInfo> {
    assertBranchName(name);
    await mkdir(this.root, { recursive: true, mode: 0o755 });
    return this.locked(name, async () => {
      const dir = await this.emptyDirFor(name);
      const meta = this.newMeta(name, options);
      await writeNamedMeta(dir, meta);
      await newBranchPassword(dir);
      try {
        if (typeof from === 'string') {
          const source = await readNamedMeta(this.dir(from));
          const carried = source && this.dataPassword(source);
          if (carried && carried !== this.ctx.password) await writeParentPassword(dir, carried);
        }
        const parent = typeof from === 'string' ? await this.freezeBranch(from, name) : from.meta;
        meta.snapshot = { hash: parent.hash, name: typeof from === 'string' ? parent.name : from.name };
        if (typeof from === 'string') meta.fromBranch = from;
        await this.runtime.prepare(meta, parent);
        if (options.start === false) {
          meta.port = await freePort();
          meta.state = 'suspended';
        } else {
          await this.startInto(meta, parent, 'started');
          meta.state = 'running';
        }
        delete meta.creator;
        await writeNamedMeta(dir, meta);
        log('created %s from %s', name, meta.snapshot.name);
      } catch (err) {
        await this.removeAll(meta).catch(() => undefined);
        if (meta.fromBranch) await this.dropFrozenSnapshot(meta.snapshot.hash).catch(() => undefined);
        throw err;
      }
      return (await this.info(name, false))!;
    });
  }

  /**
   * Turns an engine branch (a leased test branch that failed) into the named branch `name`, with its data as it
   * is and on the same port: the server is stopped cleanly, the data moved into `<cache>/named/<name>/` (or, where
   * that cannot be done, frozen and cloned), and the server started as a named branch. The engine branch is
   * destroyed afterwards; on failure nothing of the named branch is left.
   */
  async adopt(name: string, branch: Branch, options: Omit<CreateNamedOptions, 'start'> = {}): Promise<NamedBranchInfo> {
    assertBranchName(name);
    await mkdir(this.root, { recursive: true, mode: 0o755 });
    // Whatever happens, the engine branch goes: it was handed over (detached from its pool) to be kept.
    const adopted = this.locked(name, async () => {
      const dir = await this.emptyDirFor(name);
      const meta = this.newMeta(name, options);
      meta.snapshot = { hash: branch.parent.hash, name: branch.parent.name };
      meta.port = branch.port;
      await writeNamedMeta(dir, meta);
      await newBranchPassword(dir);
      try {
        await branch.suspend(); // a clean shutdown: the data is consistent wherever it goes
        const parent = await this.runtime.adopt(meta, { dir: branch.dir, containerId: branch.containerId }, branch.parent.meta);
        meta.snapshot = { hash: parent.hash, name: parent.name };
        await this.startInto(meta, parent, 'kept');
        meta.state = 'running';
        delete meta.creator;
        await writeNamedMeta(dir, meta);
      } catch (err) {
        await this.removeAll(meta).catch(() => undefined);
        if (meta.ownSnapshot) await this.dropFrozenSnapshot(meta.snapshot.hash).catch(() => undefined);
        throw err;
      }
      return (await this.info(name, false))!;
    });
    return adopted.finally(() => branch.destroy());
  }

  /** Every named branch, with its state right now. */
  async list(): Promise<NamedBranchInfo[]> {
    const out: NamedBranchInfo[] = [];
    for (const name of await listNamedDirs(this.root)) {
      const info = await this.info(name);
      if (info && (info.driver ?? 'local') === this.ctx.driver.name) out.push(info);
    }
    return out;
  }

  /** One named branch; throws with the list of names when it does not exist. */
  async get(name: string): Promise<NamedBranchInfo> {
    assertBranchName(name);
    const info = await this.info(name);
    if (info) {
      this.assertDriver(name, info.driver);
      return info;
    }
    const names = await listNamedDirs(this.root);
    throw new BranchNotFoundError(`No branch named "${name}" in ${this.ctx.layout.root}${names.length ? ` (there are: ${names.join(', ')})` : ''}; \`pgbranch create ${name} --from SNAPSHOT\` makes one.`);
  }

  /** Stops the server cleanly and keeps the data. A suspended branch costs disk only. */
  suspend(name: string): Promise<NamedBranchInfo> {
    return this.locked(name, async () => {
      const meta = await this.meta(name);
      await this.stopAndRecord(meta, await this.runtime.live(meta));
      return (await this.info(name, false))!;
    });
  }

  /**
   * Suspends the branch if, checked under its lock, it has had no client connection for `idleMs` (the keeper's
   * view may be stale: a client may have just woken it). True when it was suspended.
   */
  suspendIfIdle(name: string, idleMs: number): Promise<boolean> {
    return this.locked(name, async () => {
      const meta = await this.meta(name);
      const server = await this.runtime.live(meta);
      if (!server || Date.now() - Date.parse(meta.lastUsedAt) < idleMs) return false;
      if ((await clientConnections(this.probe(meta)).catch(() => 0)) > 0) return false;
      await this.stopAndRecord(meta, server);
      return true;
    });
  }

  /**
   * Starts a suspended branch on its URL. A branch whose server died (crash, reboot) recovers on start.
   * When `pgbranch serve` holds the port to wake the branch on connect, resume goes through it.
   */
  async resume(name: string, options: { viaFront?: boolean } = {}): Promise<NamedBranchInfo> {
    try {
      return await this.locked(name, async () => {
        const meta = await this.meta(name);
        const server = await this.runtime.live(meta);
        if (server) {
          meta.server = { pid: server.pid ?? 0, startTime: server.startTime, containerId: server.containerId };
          // Started, but the process that started it died before giving it its own password.
          if (meta.credentials !== 'own') await this.ownCredentials(meta);
        } else {
          const parent = await this.snapshotMeta(meta);
          if (meta.state === 'resetting') await this.reclone(meta, parent); // finish an interrupted reset
          await this.startInto(meta, parent, 'resumed');
        }
        meta.state = 'running';
        meta.lastUsedAt = new Date().toISOString();
        await writeNamedMeta(this.dir(name), meta);
        return (await this.info(name, false))!;
      });
    } catch (err) {
      const keeper = await readKeeper(this.ctx.layout.root, this.ctx.driver.name);
      if (options.viaFront === false || !(err instanceof ServerStartError) || !/could not bind|already in use/i.test(err.logTail) || !keeper) throw err;
      const meta = await this.meta(name);
      await wakeThroughFront(meta.port, () => this.info(name).then((i) => i?.state === 'running' || i?.state === 'idle'));
      return this.get(name);
    }
  }

  /** Throws away every change since the branch was created: back to its snapshot, same URL, running. */
  reset(name: string): Promise<NamedBranchInfo> {
    return this.locked(name, async () => {
      const meta = await this.meta(name);
      const parent = await this.snapshotMeta(meta);
      const server = await this.runtime.live(meta);
      if (server) await this.runtime.stop(meta, server, 'immediate');
      delete meta.server;
      delete meta.credentials; // recorded before the data changes: a crash from here on sets the password again
      meta.state = 'resetting';
      await writeNamedMeta(this.dir(name), meta);
      await this.reclone(meta, parent);
      await this.startInto(meta, parent, 'reset');
      meta.state = 'running';
      meta.lastUsedAt = new Date().toISOString();
      await writeNamedMeta(this.dir(name), meta);
      return (await this.info(name, false))!;
    });
  }

  /** Stops and removes a branch (and the frozen snapshot it was made from, when no other branch uses it). */
  remove(name: string): Promise<void> {
    assertBranchName(name);
    return this.locked(name, async () => {
      const meta = await readNamedMeta(this.dir(name));
      if (!meta && !(await stat(this.dir(name)).catch(() => undefined))) await this.get(name);
      if (meta) this.assertDriver(name, meta.driver);
      // On a full disk the mark cannot be written; removing is what frees space, so it goes on unmarked.
      if (meta) {
        await writeNamedMeta(this.dir(name), { ...meta, state: 'removing' }).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOSPC') throw err;
        });
      }
      if (meta) await this.removeAll(meta);
      else await removeDir(this.dir(name));
      if (meta?.fromBranch || meta?.ownSnapshot) await this.dropFrozenSnapshot(meta.snapshot.hash);
    });
  }

  /** Records client activity seen by the keeper (or a caller): keeps the branch from going idle. */
  touch(name: string, at = new Date()): Promise<void> {
    return this.locked(name, async () => {
      const meta = await readNamedMeta(this.dir(name));
      if (!meta) return;
      meta.lastUsedAt = at.toISOString();
      await writeNamedMeta(this.dir(name), meta);
    });
  }

  /** Snapshot hashes named branches still need (their parents): never pruned. */
  async snapshotsInUse(): Promise<Set<string>> {
    const hashes = new Set<string>();
    for (const name of await listNamedDirs(this.root)) {
      const meta = await readNamedMeta(this.dir(name));
      if (meta?.snapshot.hash) hashes.add(meta.snapshot.hash);
    }
    return hashes;
  }

  // ---------------------------------------------------------------------------------------------------------

  /** A branch's record and state right now; undefined when there is no such directory. */
  private async info(name: string, activity = true): Promise<NamedBranchInfo | undefined> {
    const dir = this.dir(name);
    const meta = await readNamedMeta(dir);
    if (!meta) {
      if (!(await stat(dir).catch(() => undefined))) return undefined;
      return this.brokenInfo(name, 'no branch record (creation was interrupted); `pgbranch rm` or `pgbranch gc` removes it');
    }
    const { version: _v, server: _s, creator, state: recorded, ...rest } = meta;
    const base = { ...rest, dir, expired: meta.expiresAt !== undefined && Date.parse(meta.expiresAt) <= Date.now() };
    if (recorded === 'removing') return { ...base, state: 'broken', problem: 'its removal was interrupted; `pgbranch rm` or `pgbranch gc` finishes it' };
    if (recorded === 'creating') {
      const alive = creator && isAlive(creator.pid, creator.startTime);
      return alive ? { ...base, state: 'creating' } : { ...base, state: 'broken', problem: 'creation was interrupted; `pgbranch rm` or `pgbranch gc` removes it' };
    }
    const server = await this.runtime.live(meta);
    if (!server) {
      const problem =
        recorded === 'running' ? 'its server stopped unexpectedly; `pgbranch resume` recovers it'
        : recorded === 'resetting' ? 'a reset was interrupted; `pgbranch resume` or `pgbranch reset` finishes it'
        : undefined;
      return { ...base, state: 'suspended', problem };
    }
    // Counting connections costs a connection of its own: skipped right after create/resume/reset (state is known).
    const connections = activity ? await clientConnections(this.probe(meta)).catch(() => undefined) : undefined;
    const lastUsed = connections ? Date.now() : Date.parse(meta.lastUsedAt);
    const idle = !connections && Date.now() - lastUsed >= this.idleAfterMs;
    return { ...base, state: idle ? 'idle' : 'running', connections, pid: server.pid || undefined };
  }

  /** The record of a branch being created (state `creating`, owned by this process until it is complete). */
  /** The directory of a branch about to be made, emptied of a half-made one without a record; refused when the branch exists. */
  private async emptyDirFor(name: string): Promise<string> {
    const existing = await this.info(name);
    if (existing) throw new UsageError(`Branch "${name}" already exists (${existing.state}); pick another name or \`pgbranch rm ${name}\` first.`);
    const dir = this.dir(name);
    await removeDir(dir);
    await mkdir(dir, { recursive: true, mode: 0o755 });
    return dir;
  }

  private newMeta(name: string, options: CreateNamedOptions): NamedBranchMeta {
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
      driver: this.ctx.driver.name,
      ...this.runtime.recordFields(),
      state: 'creating',
      creator: { pid: process.pid, startTime: processStartTime(process.pid) },
    };
  }

  private assertDriver(name: string, driver: NamedBranchMeta['driver']): void {
    if ((driver ?? 'local') !== this.ctx.driver.name) {
      throw new UsageError(`Branch "${name}" runs on the ${driver ?? 'local'} driver; use that driver for it (\`--driver ${driver ?? 'local'}\`).`);
    }
  }

  private brokenInfo(name: string, problem: string): NamedBranchInfo {
    const epoch = new Date(0).toISOString();
    return { name, snapshot: { hash: '', name: '' }, createdAt: epoch, lastUsedAt: epoch, labels: {}, port: 0, state: 'broken', problem, expired: false, dir: this.dir(name) };
  }

  private async meta(name: string): Promise<NamedBranchMeta> {
    const meta = await readNamedMeta(this.dir(name));
    if (!meta) {
      await this.get(name);
      throw new UsageError(`Branch "${name}" is broken (creation was interrupted); \`pgbranch rm ${name}\` removes it.`);
    }
    this.assertDriver(name, meta.driver);
    if (meta.state === 'removing') throw new UsageError(`Branch "${name}" is being removed (or its removal was interrupted: \`pgbranch rm ${name}\`).`);
    if (meta.state === 'creating') throw new UsageError(`Branch "${name}" is still being created (or its creation was interrupted: \`pgbranch gc\`).`);
    return meta;
  }

  private async snapshotMeta(meta: NamedBranchMeta): Promise<SnapshotMeta> {
    const snap = await this.ctx.driver.findSnapshot(meta.snapshot.hash);
    if (!snap) {
      throw new UsageError(
        `Branch "${meta.name}": its snapshot "${meta.snapshot.name}" (${meta.snapshot.hash.slice(0, 12)}) is no longer in the cache, so it cannot be reset; ` +
          'create a new branch from a current snapshot instead.',
      );
    }
    return snap;
  }

  /** Freezes another named branch's current state as a snapshot (a clean stop for a consistent copy). */
  private freezeBranch(source: string, forName: string): Promise<SnapshotMeta> {
    return this.locked(source, async () => {
      const meta = await this.meta(source);
      const parent = await this.snapshotMeta(meta);
      const server = await this.runtime.live(meta);
      if (server) await this.runtime.stop(meta, server, 'fast');
      try {
        const hash = `${parent.hash.slice(0, 12)}-${source}-${randomBytes(3).toString('hex')}`;
        return await this.runtime.freeze(meta, { name: `${source}@${new Date().toISOString()} (for ${forName})`, hash, from: parent });
      } finally {
        if (server) {
          await this.startInto(meta, parent, 'restarted');
          await writeNamedMeta(this.dir(source), meta);
        }
      }
    });
  }

  private async dropFrozenSnapshot(hash: string): Promise<void> {
    if ((await this.snapshotsInUse()).has(hash)) return;
    const snap = await this.ctx.driver.findSnapshot(hash);
    if (snap) await this.ctx.driver.removeSnapshot(snap);
  }

  /** Replaces the data with a fresh copy of `parent` (which carries its snapshot's password again). */
  private async reclone(meta: NamedBranchMeta, parent: SnapshotMeta): Promise<void> {
    delete meta.credentials;
    await this.runtime.discard(meta);
    await this.runtime.prepare(meta, parent);
  }

  /** Starts the branch's server on its port (a new free port the first time) and records it in `meta`. */
  private async startInto(meta: NamedBranchMeta, parent: SnapshotMeta, why: string): Promise<void> {
    try {
      await this.runtime.start(meta, parent, this.dataPassword(meta));
      if (meta.credentials !== 'own') await this.ownCredentials(meta);
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

  /** A connection to check activity with, using the password the branch's data has right now. */
  private probe(meta: NamedBranchMeta): ReturnType<typeof socketConnection> {
    return socketConnection(this.runtime.address(meta, this.dataPassword(meta)));
  }

  /** The superuser password the branch's data carries right now: its own, its parent branch's, or the cache's. */
  private dataPassword(meta: NamedBranchMeta): string {
    const dir = this.dir(meta.name);
    return (meta.credentials === 'own' ? readBranchPassword(dir) : readParentPassword(dir)) ?? this.ctx.password;
  }

  /**
   * Gives a freshly cloned (or created, or kept) branch's data its own superuser password, so its URL opens it
   * alone. Local servers take the change over the socket (root's peer authentication, or the owner's trust);
   * containers over TCP with the password the data carries (dataPassword).
   */
  private async ownCredentials(meta: NamedBranchMeta): Promise<void> {
    const dir = this.dir(meta.name);
    const own = readBranchPassword(dir) ?? (await newBranchPassword(dir));
    try {
      await applyBranchPassword(this.probe(meta), own);
    } catch (err) {
      throw new ServerStartError(`Branch "${meta.name}": could not set its own password: ${describeCause(err)}`, '', { cause: err });
    }
    meta.credentials = 'own';
  }

  /** Stops the server cleanly (data kept) and records the branch as suspended. Called under the branch's lock. */
  private async stopAndRecord(meta: NamedBranchMeta, server: LiveServer | undefined): Promise<void> {
    if (server) await this.runtime.stop(meta, server, 'fast');
    meta.state = 'suspended';
    delete meta.server;
    await writeNamedMeta(this.dir(meta.name), meta);
  }

  /** Stops the server and removes everything of the branch (directory, socket directory, container). */
  private async removeAll(meta: NamedBranchMeta): Promise<void> {
    const server = await this.runtime.live(meta);
    if (server) await this.runtime.stop(meta, server, 'immediate');
    await this.runtime.removeOutside(meta);
    await removeDir(this.dir(meta.name));
  }

  /** Branch operations take seconds at most: a lock left by a killed process goes stale after 4 s. */
  private locked<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return withLock(path.join(this.ctx.layout.root, 'locks', `named-${name}.lock`), fn, { staleMs: 4000 });
  }
}
