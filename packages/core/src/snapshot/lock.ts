import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { logger } from '../log.js';
import { isAlive, processStartTime } from '../system/proc.js';

const log = logger('lock');

/** Who holds a lock: a process of this host is checked by pid and start time, so a killed holder is seen at once. */
interface LockOwner {
  pid: number;
  startTime?: string;
  host: string;
  /** Tells this holding from a later one of the same process. */
  token: string;
}

/**
 * Holds a cross-process lock (a directory at `lockPath` with its owner inside) while `fn` runs. A holder of
 * this host that is gone (even by SIGKILL, or its pid reused) is detected by its pid and process start time, and
 * its lock taken over at once. A lock without a readable owner (another host, or a disk too full to record it)
 * goes stale when its holder stops refreshing it for `staleMs`.
 */
export async function withLock<T>(lockPath: string, fn: () => Promise<T>, timing: { staleMs?: number } = {}): Promise<T> {
  const staleMs = timing.staleMs ?? 10_000;
  const token = await acquire(lockPath, staleMs);
  // The refresh only matters for waiters that cannot check the owner's pid.
  const refresh = setInterval(() => void utimes(lockPath, new Date(), new Date()).catch(() => undefined), Math.max(100, Math.round(staleMs / 5)));
  refresh.unref();
  try {
    return await fn();
  } finally {
    clearInterval(refresh);
    await release(lockPath, token);
  }
}

async function acquire(lockPath: string, staleMs: number): Promise<string> {
  await mkdir(path.dirname(lockPath), { recursive: true });
  const owner: LockOwner = { pid: process.pid, startTime: processStartTime(process.pid), host: os.hostname(), token: randomBytes(8).toString('hex') };
  for (let attempt = 0; ; attempt++) {
    try {
      await mkdir(lockPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const held = await readOwner(lockPath);
      if (await isStale(lockPath, held, staleMs)) await breakLock(lockPath, held?.token);
      else await new Promise((r) => setTimeout(r, Math.min(250, 20 * 1.2 ** attempt)));
      continue;
    }
    // Without the owner record (a full disk), waiters fall back to the refresh time.
    await writeFile(path.join(lockPath, 'owner.json'), JSON.stringify(owner)).catch((err: unknown) => log('lock %s: owner not recorded: %s', lockPath, err));
    return owner.token;
  }
}

async function readOwner(lockPath: string): Promise<LockOwner | undefined> {
  try {
    return JSON.parse(await readFile(path.join(lockPath, 'owner.json'), 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

async function isStale(lockPath: string, owner: LockOwner | undefined, staleMs: number): Promise<boolean> {
  if (owner?.pid && owner.host === os.hostname()) return !isAlive(owner.pid, owner.startTime);
  const st = await stat(lockPath).catch(() => undefined);
  return st !== undefined && st.mtimeMs < Date.now() - staleMs;
}

/**
 * Moves a stale lock aside, then checks that what was moved is the lock judged stale: another waiter may have
 * broken it and taken a new one meanwhile, which is then put back.
 */
async function breakLock(lockPath: string, staleToken: string | undefined): Promise<void> {
  const aside = `${lockPath}.stale-${randomBytes(4).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch {
    return; // someone else broke it first
  }
  const moved = await readOwner(aside);
  if (moved?.token !== staleToken) {
    await rename(aside, lockPath).catch(() => log('lock %s: a live lock was moved aside and could not be put back', lockPath));
    return;
  }
  log('lock %s: broke the lock of %s', lockPath, moved ? `dead pid ${moved.pid}` : 'a holder that stopped refreshing it');
  await rm(aside, { recursive: true, force: true });
}

async function release(lockPath: string, token: string): Promise<void> {
  const owner = await readOwner(lockPath);
  if (owner && owner.token !== token) {
    log('lock %s was taken over while held (the holder looked dead)', lockPath);
    return;
  }
  await rm(lockPath, { recursive: true, force: true }).catch(() => undefined);
}
