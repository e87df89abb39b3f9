// Over 300 lines: the one facade of every named-branch operation (each a few lines under the branch's lock).
import { stat } from 'node:fs/promises';
import { assertBranchName, readNamedMetaSync, type NamedBranchMeta } from '../cache/named-record.js';
import { readKeeper } from '../cache/keeper-record.js';
import { removeDir } from '../cloners/remove-dir.js';
import { addressUrl } from '../drivers/address.js';
import { freePort } from '../drivers/local/ports.js';
import type { Branch, Snapshot } from '../branch/branch.js';
import type { StoredSnapshot } from '../snapshot/stored-snapshot.js';
import { ServerStartError, UsageError } from '../errors.js';
import { logger } from '../log.js';
import { clientConnections } from './activity.js';
import { writeParentPassword, newBranchPassword, readParentPassword } from './branch-credentials.js';
import { describeBranch, type NamedBranchInfo } from './named-info.js';
import { NamedRecords, type CreateNamedOptions } from './named-records.js';
import { NamedServers, type NamedContext } from './named-servers.js';
import { wakeThroughFront } from './wake.js';
import type { DatabaseDiff, DiffOptions } from '../diff/types.js';
import { fastForward } from './fast-forward.js';
import { diffNamed, mergeNamed, type MergeOptions, type MergeResult, type NamedAccess } from './named-merge.js';
import { currentSnapshot, withClients } from '../diff/connect.js';

export { BranchNotFoundError, type CreateNamedOptions } from './named-records.js';
export type { NamedBranchInfo, NamedBranchState } from './named-info.js';
export type { NamedContext } from './named-servers.js';
export { conflictSides, type MergeOptions, type MergeResult, type MergeStrategy } from './named-merge.js';

const log = logger('named');

/**
 * Long-lived branches with names, kept in `<cache>/named/<name>/` across processes: they belong to no engine
 * session, so closing an engine or a crash leaves them as they are. Every change to one happens under its lock.
 * Any driver runs them: the driver's NamedRuntime does the work, these records are the branches' state.
 */
export class NamedBranches {
  private readonly records: NamedRecords;
  private readonly servers: NamedServers;

  constructor(
    private readonly ctx: NamedContext,
    /** A running branch without client connections for this long is shown as idle. */
    private readonly idleAfterMs = 5 * 60_000,
  ) {
    this.records = new NamedRecords(ctx.layout, ctx.driver.name);
    this.servers = new NamedServers(ctx, this.records);
  }

  get root(): string {
    return this.records.root;
  }
  dir(name: string): string {
    return this.records.dir(name);
  }
  /** The branch's unix socket directory, where its driver offers one (connect with host set to it). */
  socketDir(name: string): string | undefined {
    const meta = readNamedMetaSync(this.dir(name));
    return meta ? this.servers.runtime.address(meta, '').socketDir : undefined;
  }

  /**
   * The URL of a named branch, with the branch's own password: it opens this branch only, not its siblings
   * (contains the password; print it only where the user asked for it).
   */
  url(info: Pick<NamedBranchInfo, 'port' | 'name'>): string {
    const meta = readNamedMetaSync(this.dir(info.name));
    if (!meta) throw new UsageError(`Branch "${info.name}" has no record in ${this.ctx.layout.root}.`);
    return addressUrl(this.servers.runtime.address({ ...meta, port: info.port }, this.servers.urlPassword(info.name)));
  }

  /** Creates `name` from a snapshot, or from another named branch (by name: its state at this moment), and starts it. */
  async create(name: string, from: Snapshot | string, options: CreateNamedOptions = {}): Promise<NamedBranchInfo> {
    return this.records.locked(name, async () => {
      const meta = await this.begin(name, options);
      try {
        if (typeof from === 'string') {
          const source = await this.records.read(from);
          const carried = source && this.servers.dataPassword(source);
          if (carried && carried !== this.ctx.password) await writeParentPassword(this.dir(name), carried);
        }
        const parent = typeof from === 'string' ? await this.freezeBranch(from, name) : from.meta;
        meta.snapshot = { hash: parent.hash, name: typeof from === 'string' ? parent.name : from.name };
        if (typeof from === 'string') meta.fromBranch = from;
        await this.servers.runtime.prepare(meta, parent);
        if (options.start === false) {
          meta.port = await freePort();
          meta.state = 'suspended';
        } else {
          await this.servers.start(meta, parent, 'started');
          meta.state = 'running';
        }
        await this.complete(meta);
        log('created %s from %s', name, meta.snapshot.name);
      } catch (err) {
        await this.servers.removeAll(meta).catch(() => undefined);
        if (meta.fromBranch) await this.dropFrozenSnapshot(meta.snapshot.hash).catch(() => undefined);
        throw err;
      }
      return (await this.info(name, false))!;
    });
  }

  /**
   * Turns an engine branch (a leased test branch that failed) into the named branch `name`, with its data as it
   * is and on the same port: the server is stopped cleanly, its data handed to the named branch (moved where the
   * driver can, else frozen and copied), and the server started as a named branch. The engine branch is
   * destroyed afterwards; on failure nothing of the named branch is left.
   */
  async adopt(name: string, branch: Branch, options: Omit<CreateNamedOptions, 'start'> = {}): Promise<NamedBranchInfo> {
    // Whatever happens, the engine branch goes: it was handed over (detached from its pool) to be kept.
    const adopted = this.records.locked(name, async () => {
      const meta = await this.begin(name, options);
      meta.snapshot = { hash: branch.parent.hash, name: branch.parent.name };
      meta.port = branch.port;
      try {
        await branch.suspend(); // a clean shutdown: the data is consistent wherever it goes
        const parent = await this.servers.runtime.adopt(meta, { dir: branch.dir, containerId: branch.containerId }, branch.parent.meta);
        meta.snapshot = { hash: parent.hash, name: parent.name };
        await this.servers.start(meta, parent, 'kept');
        meta.state = 'running';
        await this.complete(meta);
      } catch (err) {
        await this.servers.removeAll(meta).catch(() => undefined);
        if (meta.ownSnapshot) await this.dropFrozenSnapshot(meta.snapshot.hash).catch(() => undefined);
        throw err;
      }
      return (await this.info(name, false))!;
    });
    return adopted.finally(() => branch.destroy());
  }

  /** Every named branch of this engine's driver, with its state right now. */
  async list(): Promise<NamedBranchInfo[]> {
    const out: NamedBranchInfo[] = [];
    for (const name of await this.records.names()) {
      const info = await this.info(name);
      if (info && (info.driver ?? 'local') === this.ctx.driver.name && !this.records.elsewhere(await this.records.read(name), this.servers.runtime)) out.push(info);
    }
    return out;
  }

  /** One named branch; throws with the list of names when it does not exist. */
  async get(name: string): Promise<NamedBranchInfo> {
    assertBranchName(name);
    const info = await this.info(name);
    if (!info) throw await this.records.notFound(name);
    this.records.assertDriver(name, (await this.records.read(name)) ?? info, this.servers.runtime);
    return info;
  }

  /** Stops the server cleanly and keeps the data. A suspended branch costs disk only. */
  suspend(name: string): Promise<NamedBranchInfo> {
    return this.records.locked(name, async () => {
      const meta = await this.meta(name);
      await this.servers.stopAndRecord(meta, await this.servers.runtime.live(meta));
      return (await this.info(name, false))!;
    });
  }

  /**
   * Suspends the branch if, checked under its lock, it has had no client connection for `idleMs` (the keeper's
   * view may be stale: a client may have just woken it). True when it was suspended.
   */
  suspendIfIdle(name: string, idleMs: number): Promise<boolean> {
    return this.records.locked(name, async () => {
      const meta = await this.meta(name);
      const server = await this.servers.runtime.live(meta);
      if (!server || Date.now() - Date.parse(meta.lastUsedAt) < idleMs) return false;
      if ((await clientConnections(this.servers.probe(meta)).catch(() => 0)) > 0) return false;
      await this.servers.stopAndRecord(meta, server);
      return true;
    });
  }

  /**
   * Starts a suspended branch on its URL; one whose server died (crash, reboot) recovers. When `pgbranch serve` holds
   * the port, resume goes through it, except the keeper's own (`viaFront` false; `onServing`: see NamedServers.start).
   */
  async resume(name: string, options: { viaFront?: boolean; onServing?: () => Promise<void> | void } = {}): Promise<NamedBranchInfo> {
    try {
      return await this.records.locked(name, async () => {
        const meta = await this.meta(name);
        const server = await this.servers.runtime.live(meta);
        if (server) {
          meta.server = { pid: server.pid ?? 0, startTime: server.startTime, containerId: server.containerId };
          // Started, but the process that started it died before giving it its own password.
          if (meta.credentials !== 'own') await this.servers.ownCredentials(meta);
        } else {
          const parent = await this.servers.parentOf(meta);
          if (meta.state === 'resetting') await this.servers.reclone(meta, parent); // finish an interrupted reset
          await this.servers.start(meta, parent, 'resumed', options.onServing);
        }
        meta.state = 'running';
        meta.lastUsedAt = new Date().toISOString();
        await this.records.write(meta);
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
    return this.records.locked(name, async () => {
      const meta = await this.meta(name);
      const parent = await this.servers.parentOf(meta);
      const server = await this.servers.runtime.live(meta);
      if (server) await this.servers.runtime.stop(meta, server, 'immediate');
      delete meta.server;
      delete meta.credentials; // recorded before the data changes: a crash from here on sets the password again
      meta.state = 'resetting';
      meta.dataSince = new Date().toISOString();
      await this.records.write(meta);
      await this.servers.reclone(meta, parent);
      await this.servers.start(meta, parent, 'reset');
      meta.state = 'running';
      meta.lastUsedAt = new Date().toISOString();
      await this.records.write(meta);
      return (await this.info(name, false))!;
    });
  }

  /** Stops and removes a branch (and the frozen snapshot it was made from, when no other branch uses it). */
  destroy(name: string): Promise<void> {
    assertBranchName(name);
    return this.records.locked(name, async () => {
      const meta = await this.records.read(name);
      if (!meta && !(await stat(this.dir(name)).catch(() => undefined))) await this.get(name);
      if (meta) this.records.assertDriver(name, meta, this.servers.runtime);
      // On a full disk the mark cannot be written; removing is what frees space, so it goes on unmarked.
      if (meta) {
        await this.records.write({ ...meta, state: 'removing' }).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOSPC') throw err;
        });
        await this.servers.removeAll(meta);
      } else await removeDir(this.dir(name));
      if (meta?.fromBranch || meta?.ownSnapshot) await this.dropFrozenSnapshot(meta.snapshot.hash);
    });
  }

  /**
   * What `name` changed since its snapshot; with `other` (another named branch, or a stored snapshot `name` descends
   * from), what differs from `other` to `name`. Suspended branches are started.
   */
  diff(name: string, other?: string | Snapshot, options: DiffOptions = {}): Promise<DatabaseDiff> {
    return diffNamed(this.access(), name, typeof other === 'object' ? other.meta : other, options);
  }

  /** Brings `source`'s changes into `target`: fast-forward, or a three-way merge in one transaction (see MergeResult). */
  merge(source: string, target: string, options: MergeOptions = {}): Promise<MergeResult> {
    return mergeNamed(this.access(), source, target, options);
  }

  /** Records client activity seen by the keeper (or a caller): keeps the branch from going idle. */
  touch(name: string, at = new Date()): Promise<void> {
    return this.records.locked(name, async () => {
      const meta = await this.records.read(name);
      if (!meta) return;
      meta.lastUsedAt = at.toISOString();
      await this.records.write(meta);
    });
  }

  /** Snapshot hashes named branches still need (their parents): never pruned. */
  async snapshotsInUse(): Promise<Set<string>> {
    const hashes = new Set<string>();
    for (const name of await this.records.names()) {
      const meta = await this.records.read(name);
      if (meta?.snapshot.hash) hashes.add(meta.snapshot.hash);
    }
    return hashes;
  }

  private info(name: string, activity = true): Promise<NamedBranchInfo | undefined> {
    return describeBranch(this.records, this.servers, name, { activity, idleAfterMs: this.idleAfterMs });
  }

  /** Refuses an existing branch, then records a new one as `creating` with its own password. */
  private async begin(name: string, options: CreateNamedOptions): Promise<NamedBranchMeta> {
    assertBranchName(name);
    const existing = await this.info(name);
    if (existing) throw new UsageError(`Branch "${name}" already exists (${existing.state}); pick another name or \`pgbranch rm ${name}\` first.`);
    const dir = await this.records.freshDir(name);
    const meta = this.records.newRecord(name, options, this.servers.runtime.recordFields());
    await this.records.write(meta);
    await newBranchPassword(dir);
    return meta;
  }

  private async complete(meta: NamedBranchMeta): Promise<void> {
    delete meta.creator;
    await this.records.write(meta);
  }

  /** A branch's record for an operation on it: refused while it is being created or removed. */
  private async meta(name: string): Promise<NamedBranchMeta> {
    const meta = await this.records.read(name);
    if (!meta) {
      await this.get(name);
      throw new UsageError(`Branch "${name}" is broken (creation was interrupted); \`pgbranch rm ${name}\` removes it.`);
    }
    this.records.assertDriver(name, meta, this.servers.runtime);
    if (meta.state === 'removing') throw new UsageError(`Branch "${name}" is being removed (or its removal was interrupted: \`pgbranch rm ${name}\`).`);
    if (meta.state === 'creating') throw new UsageError(`Branch "${name}" is still being created (or its creation was interrupted: \`pgbranch gc\`).`);
    return meta;
  }

  /** Freezes another named branch's current state as a snapshot, under that branch's lock. */
  private freezeBranch(source: string, forName: string): Promise<StoredSnapshot> {
    return this.records.locked(source, async () => this.servers.freeze(await this.meta(source), forName));
  }

  private access(): NamedAccess {
    return {
      ctx: this.ctx,
      running: async (name) => {
        const info = await this.get(name);
        if (info.state !== 'running' && info.state !== 'idle') await this.resume(name);
        return this.meta(name);
      },
      records: async () => (await Promise.all((await this.records.names()).map((n) => this.records.read(n)))).filter((m): m is NamedBranchMeta => m !== undefined),
      probe: (meta) => this.servers.probe(meta),
      locked: (name, fn) => this.records.locked(name, fn),
      snapshotPassword: async (hash) => {
        for (const name of await this.records.names()) {
          if ((await this.records.read(name))?.snapshot.hash === hash) return readParentPassword(this.dir(name));
        }
        return undefined;
      },
      fastForward: async (target, source, snapshot) => {
        const before = await this.meta(target);
        const frozenBefore = Boolean(before.fromBranch || before.ownSnapshot);
        const frozen = await this.servers.freeze(await this.meta(source), target); // the caller holds source's lock
        const carried = this.servers.dataPassword(await this.meta(source));
        const stillUnchanged = async () => {
          const now = await withClients([this.servers.probe(before)], ([c]) => currentSnapshot(c!));
          if (now === snapshot) return;
          await this.dropFrozenSnapshot(frozen.hash);
          throw new UsageError(`Branch "${target}" was written to while the merge compared it, so it was not fast-forwarded (that would lose the write); nothing changed. Merge again.`);
        };
        const previous = await fastForward(this.records, this.servers, before, frozen, source, carried, stillUnchanged);
        if (frozenBefore) await this.dropFrozenSnapshot(previous);
      },
    };
  }

  private async dropFrozenSnapshot(hash: string): Promise<void> {
    await this.servers.dropFrozenSnapshot(hash, await this.snapshotsInUse());
  }
}
