import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { removeDir } from '../cloners/remove-dir.js';
import { logger } from '../log.js';
import { isAlive, servesDataDir, waitForExit } from '../system/proc.js';
import { readCompleteMeta } from '../snapshot/stored-snapshot.js';
import { diskUsage } from '../cache/disk-usage.js';
import type { CacheLayout } from '../cache/layout.js';
import { closeSession, listSessions, sessionAlive } from '../cache/session.js';

const log = logger('reaper');
/** Probe and socket scratch directories (and owner records being written) younger than this may belong to an engine that is starting. */
const SCRATCH_GRACE_MS = 60_000;

/** What a reaping pass removed. */
export interface ReapReport {
  sessions: string[];
  servers: number;
  directories: string[];
  /** Bytes allocated to the removed directories, measured before removing them (see diskUsage). */
  bytes?: number;
}

/**
 * Removes what owners that are no longer alive left behind: their servers (stopped), mounts,
 * branch directories, snapshot builds and snapshots of branches. Live owners are never touched.
 */
export async function reapDeadOwners(layout: CacheLayout): Promise<ReapReport> {
  const report: ReapReport = { sessions: [], servers: 0, directories: [], bytes: 0 };
  const sessions = await listSessions(layout);
  const dead = (id: string): boolean => !sessionAlive(sessions.get(id));

  for (const id of await readdir(layout.branchesRoot).catch(() => [] as string[])) {
    if (!dead(id)) continue;
    const sessionDir = layout.branches(id);
    for (const branchId of await readdir(sessionDir).catch(() => [] as string[])) {
      const dir = layout.branch(id, branchId);
      report.servers += await stopServerIn(path.join(dir, 'data'));
      report.bytes! += await diskUsage(dir);
      await removeDir(dir);
      report.directories.push(dir);
    }
    await removeDir(sessionDir);
  }

  for (const name of await readdir(layout.snapshots).catch(() => [] as string[])) {
    const dir = path.join(layout.snapshots, name);
    const build = /^\.build-(.+)-([0-9a-f]{8})$/.exec(name);
    if (build && dead(build[2]!)) {
      report.servers += await stopServerIn(path.join(dir, 'data'));
      report.bytes! += await diskUsage(dir);
      await removeDir(dir);
      report.directories.push(dir);
    } else if (!build) {
      const meta = await readCompleteMeta(dir);
      if (meta?.ephemeralOwner && dead(meta.ephemeralOwner)) {
        report.bytes! += await diskUsage(dir);
        await removeDir(dir);
        report.directories.push(dir);
      }
    }
  }

  for (const name of await readdir(layout.root).catch(() => [] as string[])) {
    if (!name.startsWith('.probe-')) continue;
    const dir = path.join(layout.root, name);
    const age = Date.now() - ((await stat(dir).catch(() => undefined))?.mtimeMs ?? 0);
    if (age > SCRATCH_GRACE_MS) {
      report.bytes! += await diskUsage(dir);
      await removeDir(dir);
      report.directories.push(dir);
    }
  }

  // Owner records half-written when the disk was full (or the writer was killed between write and rename).
  for (const name of await readdir(layout.sessions).catch(() => [] as string[])) {
    if (!name.endsWith('.tmp')) continue;
    const file = path.join(layout.sessions, name);
    const age = Date.now() - ((await stat(file).catch(() => undefined))?.mtimeMs ?? Date.now());
    if (age > SCRATCH_GRACE_MS) {
      await rm(file, { force: true });
      report.directories.push(file);
    }
  }

  for (const [id, record] of sessions) {
    if (!sessionAlive(record)) {
      await rm(layout.poolSocket(id), { force: true });
      await closeSession(layout, id, record); // and its run directory (socket directories of its servers)
      report.sessions.push(id);
    }
  }
  if (report.directories.length > 0 || report.servers > 0) log('reaped %o', report);
  return report;
}

/** Stops the postmaster recorded in a data directory's postmaster.pid, if it is still that server. */
async function stopServerIn(dataDir: string): Promise<number> {
  const lines = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').then((s) => s.split('\n'), () => [] as string[]);
  const pid = Number(lines[0]);
  if (!pid || !isAlive(pid)) return 0;
  // The pid file can outlive its server and the pid be reused: only stop a postgres serving this directory.
  if (!servesDataDir(pid, dataDir)) return 0;
  try {
    process.kill(pid, 'SIGQUIT');
  } catch {
    return 0;
  }
  if (!(await waitForExit(pid, 5000))) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Exited meanwhile.
    }
    await waitForExit(pid, 2000);
  }
  return 1;
}
