import path from 'node:path';
import { SnapshotDirs } from '../../cache/snapshot-dirs.js';
import { CloneError, describeCause, hintFor } from '../../errors.js';
import type { StoredSnapshot } from '../../snapshot/stored-snapshot.js';
import { privateDir } from '../../system/private-dir.js';
import type { LocalContext } from '../context.js';
import { startServer, type LocalServer } from './local-server.js';
import { clearStaleServerFiles } from './stale-pid-file.js';

/**
 * The two steps every local branch takes, engine branch or named: a copy-on-write clone of its snapshot's data
 * directory, and a server started on it. `label` names the branch in errors (`branch "a" of snapshot "app"`).
 */

/** Clones the stored snapshot's data directory to `dataDir` with the cache directory's cloner. */
export async function cloneSnapshot(ctx: LocalContext, parent: StoredSnapshot, dataDir: string, label: string): Promise<void> {
  try {
    await ctx.cloner.clone(new SnapshotDirs(ctx.layout).dataDir(parent), dataDir, ctx.runAs);
  } catch (err) {
    throw new CloneError(`${label}: the ${ctx.cloner.name} clone failed: ${describeCause(err)}.${hintFor(err)}`, { cause: err });
  }
}

export interface BranchServerOptions {
  /** The branch's directory: its server log is kept there. */
  dir: string;
  dataDir: string;
  socketDir: string;
  /** The branch's port, kept across restarts (a free one when undefined). */
  port: number | undefined;
  label: string;
}

/**
 * Starts a server on a branch's clone: its socket directory made private first (never through a path someone
 * else controls: privateDir refuses symlinks and foreign directories), and what a killed server left cleared.
 */
export async function startBranchServer(ctx: LocalContext, options: BranchServerOptions): Promise<LocalServer> {
  await privateDir(options.socketDir, 0o700, ctx.runAs.dropped ? ctx.runAs : undefined);
  await clearStaleServerFiles(options.dataDir, options.socketDir);
  return startServer(ctx.binaries, {
    dataDir: options.dataDir,
    socketDir: options.socketDir,
    logFile: path.join(options.dir, 'postgres.log'),
    settings: ctx.settings,
    runAs: ctx.runAs,
    port: options.port,
    label: options.label,
  });
}
