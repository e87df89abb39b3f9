import { rename } from 'node:fs/promises';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { mountOverlay, overlayLayers } from '../../cloners/overlay-cloner.js';
import { mountsUnder, unmount } from '../../system/mounts.js';
import { removeDir } from '../../cloners/remove-dir.js';
import type { BuildJob } from '../../snapshot/build-job.js';
import { startServer } from './local-server.js';
import { clearStaleServerFiles } from './stale-pid-file.js';
import { DATABASE, SUPERUSER } from '../../snapshot/postgres-settings.js';
import type { LocalContext } from '../context.js';
import { CloneError, describeCause, hintFor } from '../../errors.js';
import { buildSnapshot } from './local-builder.js';
import type { SnapshotMeta } from '../../snapshot/snapshot-meta.js';
import { processStartTime } from '../../system/proc.js';
import { isOwnDir, privateDir } from '../../system/private-dir.js';
import { MAX_SOCKET_DIR } from '../../cache/layout.js';
import { makeRunDir, removeRunDir } from '../../cache/run-dir.js';
import type { NamedBranchMeta } from '../../cache/named-record.js';
import type { BranchAddress } from '../driver.js';
import type { AdoptSource, LiveServer, NamedRuntime } from '../named-runtime.js';
import { assertAnswers, diskFullError, liveServer, stopServerProcess } from './server-process.js';
import { socketConnection } from '../address.js';

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

  async prepare(meta: NamedBranchMeta, parent: SnapshotMeta): Promise<void> {
    try {
      await this.ctx.cloner.clone(path.join(this.ctx.layout.snapshot(parent.hash), 'data'), this.dataDir(meta), this.ctx.runAs);
    } catch (err) {
      throw new CloneError(`Branch "${meta.name}" of snapshot "${parent.name}": the ${this.ctx.cloner.name} clone failed: ${describeCause(err)}.${hintFor(err)}`, { cause: err });
    }
  }

  async start(meta: NamedBranchMeta, parent: SnapshotMeta, _password: string): Promise<void> {
    // An overlay clone outlives its mount only on disk (a reboot unmounts it): mount it again over its layers.
    const dataDir = this.dataDir(meta);
    if (this.ctx.cloner.name === 'overlay' && mountsUnder(dataDir).length === 0 && existsSync(overlayLayers(dataDir).upper)) {
      await mountOverlay(path.join(this.ctx.layout.snapshot(parent.hash), 'data'), dataDir);
    }
    if (namedSocketDir(this.dirOf(meta.name), undefined) === undefined && !(meta.socketHome && (await isOwnDir(meta.socketHome)))) {
      meta.socketHome = await makeRunDir();
    }
    const socketDir = this.socketDirOf(meta);
    // Never through a path someone else controls: privateDir refuses symlinks and foreign directories.
    await privateDir(socketDir, 0o700, this.ctx.runAs.dropped ? this.ctx.runAs : undefined);
    await clearStaleServerFiles(dataDir, socketDir); // a server killed with -9 left it
    const server = await startServer(this.ctx.binaries, {
      dataDir: this.dataDir(meta),
      socketDir,
      logFile: path.join(this.dirOf(meta.name), 'postgres.log'),
      settings: this.ctx.settings,
      runAs: this.ctx.runAs,
      port: meta.port || undefined,
      label: `branch "${meta.name}"`,
    }).catch(async (err: unknown) => {
      throw (await diskFullError(dataDir, `Branch "${meta.name}" did not start`, err)) ?? err;
    });
    try {
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

  async discard(meta: NamedBranchMeta): Promise<void> {
    await removeDir(this.dataDir(meta));
    await removeDir(path.dirname(overlayLayers(this.dataDir(meta)).upper));
  }

  async removeOutside(meta: NamedBranchMeta): Promise<void> {
    await removeRunDir(meta.socketHome);
  }

  freeze(meta: NamedBranchMeta, job: Omit<BuildJob, 'files' | 'kind'>): Promise<SnapshotMeta> {
    return buildSnapshot(this.ctx, { ...job, kind: 'branch', files: [] }, this.dataDir(meta));
  }

  /**
   * Renames the branch's data directory (and an overlay clone's layers, unmounted first; start() mounts them
   * again) into the named branch's directory: same filesystem, so nothing is copied whatever the cloner.
   */
  async adopt(meta: NamedBranchMeta, source: AdoptSource, parent: SnapshotMeta): Promise<SnapshotMeta> {
    if (!source.dir) throw new CloneError(`Branch "${meta.name}": the branch to keep has no directory on this host.`);
    const from = path.join(source.dir, 'data');
    for (const mountPoint of mountsUnder(from)) await unmount(mountPoint);
    const layers = path.dirname(overlayLayers(from).upper);
    if (existsSync(layers)) await rename(layers, path.dirname(overlayLayers(this.dataDir(meta)).upper));
    await rename(from, this.dataDir(meta));
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
