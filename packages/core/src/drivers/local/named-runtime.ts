import path from 'node:path';
import { MAX_SOCKET_DIR } from '../../cache/layout.js';
import type { NamedBranchMeta } from '../../cache/named-record.js';
import { makeRunDir, removeRunDir } from '../../cache/run-dir.js';
import { SnapshotDirs } from '../../cache/snapshot-dirs.js';
import { moveClone, remountClone, removeClone } from '../../cloners/clone-files.js';
import { CloneError } from '../../errors.js';
import type { BuildJob } from '../../snapshot/build-job.js';
import { DATABASE, SUPERUSER } from '../../snapshot/postgres-settings.js';
import type { StoredSnapshot } from '../../snapshot/stored-snapshot.js';
import { processStartTime } from '../../system/proc.js';
import { isOwnDir } from '../../system/private-dir.js';
import { socketConnection } from '../address.js';
import type { LocalContext } from '../context.js';
import type { BranchAddress } from '../driver.js';
import type { AdoptSource, LiveServer, NamedRuntime } from '../named-runtime.js';
import { cloneSnapshot, startBranchServer } from './branch-server.js';
import { buildSnapshot } from './local-builder.js';
import { assertAnswers, diskFullError, liveServer, stopServerProcess } from './server-process.js';

/** Named branches as postgres processes on copy-on-write clones in the branch directory. */
export class LocalNamedRuntime implements NamedRuntime {
  constructor(
    private readonly ctx: LocalContext,
    private readonly dirOf: (name: string) => string,
  ) {}

  /** Its socket directory (a branch never started has none: the path then refuses connections). */
  private socketDirOf(meta: NamedBranchMeta): string {
    return namedSocketDir(this.dirOf(meta.name), meta) ?? path.join(this.dirOf(meta.name), 'run');
  }

  private dataDir(meta: NamedBranchMeta): string {
    return path.join(this.dirOf(meta.name), 'data');
  }

  recordFields(): Partial<NamedBranchMeta> {
    return {};
  }

  prepare(meta: NamedBranchMeta, parent: StoredSnapshot): Promise<void> {
    return cloneSnapshot(this.ctx, parent, this.dataDir(meta), `Branch "${meta.name}" of snapshot "${parent.name}"`);
  }

  async start(meta: NamedBranchMeta, parent: StoredSnapshot, _password: string, onServing?: () => Promise<void> | void): Promise<void> {
    // An overlay clone outlives its mount only on disk (a reboot unmounts it): mount it again over its layers.
    const dataDir = this.dataDir(meta);
    if (this.ctx.cloner.name === 'overlay') await remountClone(new SnapshotDirs(this.ctx.layout).dataDir(parent), dataDir);
    if (namedSocketDir(this.dirOf(meta.name), undefined) === undefined && !(meta.socketHome && (await isOwnDir(meta.socketHome)))) {
      meta.socketHome = await makeRunDir();
    }
    const socketDir = this.socketDirOf(meta);
    const server = await startBranchServer(this.ctx, {
      dir: this.dirOf(meta.name),
      dataDir,
      socketDir,
      port: meta.port || undefined,
      label: `branch "${meta.name}"`,
    }).catch(async (err: unknown) => {
      throw (await diskFullError(dataDir, `Branch "${meta.name}" did not start`, err)) ?? err;
    });
    try {
      // The postmaster is ready: a waiting client goes first. Its connection and this check starting side by side
      // on a fresh server would slow each other down; the check follows once the client's start-up is over.
      await onServing?.();
      await assertAnswers(socketConnection(this.address({ ...meta, port: server.port }, this.ctx.password)), `Branch "${meta.name}"`);
    } catch (err) {
      await server.stop('immediate');
      throw err;
    }
    meta.port = server.port;
    meta.server = { pid: server.pid, startTime: processStartTime(server.pid) };
  }

  live(meta: NamedBranchMeta): Promise<LiveServer | undefined> {
    return liveServer(this.dataDir(meta), meta);
  }

  async stop(_meta: NamedBranchMeta, server: LiveServer, mode: 'fast' | 'immediate'): Promise<void> {
    if (server.pid) await stopServerProcess({ pid: server.pid }, mode);
  }

  discard(meta: NamedBranchMeta): Promise<void> {
    return removeClone(this.dataDir(meta));
  }

  async removeOutside(meta: NamedBranchMeta): Promise<void> {
    await removeRunDir(meta.socketHome);
  }

  freeze(meta: NamedBranchMeta, job: Omit<BuildJob, 'files' | 'kind'>): Promise<StoredSnapshot> {
    return buildSnapshot(this.ctx, { ...job, kind: 'branch', files: [] }, this.dataDir(meta));
  }

  /**
   * Renames the branch's data directory (and an overlay clone's layers, unmounted first; start() mounts them
   * again) into the named branch's directory: same filesystem, so nothing is copied whatever the cloner.
   */
  async adopt(meta: NamedBranchMeta, source: AdoptSource, parent: StoredSnapshot): Promise<StoredSnapshot> {
    if (!source.dir) throw new CloneError(`Branch "${meta.name}": the branch to keep has no directory on this host.`);
    await moveClone(path.join(source.dir, 'data'), this.dataDir(meta));
    return parent;
  }

  address(meta: NamedBranchMeta, password: string): BranchAddress {
    return { host: '127.0.0.1', port: meta.port, user: SUPERUSER, password, database: DATABASE, socketDir: this.socketDirOf(meta) };
  }
}

/**
 * A named branch's socket directory: `<dir>/run` when that path is short enough for a socket, else `run` inside
 * the branch's recorded socket home (undefined while it has none: `meta` omitted or not started yet).
 */
export function namedSocketDir(dir: string, meta: Pick<NamedBranchMeta, 'socketHome'> | undefined): string | undefined {
  const inside = path.join(dir, 'run');
  if (inside.length <= MAX_SOCKET_DIR) return inside;
  return meta?.socketHome ? path.join(meta.socketHome, 'run') : undefined;
}
