import { randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { logger } from '../log.js';
import { isAlive, processStartTime } from '../system/proc.js';

const log = logger('lock');

/** How long a breaker may hold the short lock that serialises breaking (and releasing) before it counts as gone. */
const BREAK_STALE_MS = 2000;
/** Temporary and moved-aside directories older than this are leftovers of a process that died mid-step. */
const LEFTOVER_AGE_MS = 60_000;

/**
 * Who holds a lock. Its pid is only meaningful where it was taken: the same host, boot and pid namespace
 * (containers sharing the host's name and network do not share its pids).
 */
interface LockOwner {
  pid: number;
  startTime?: string;
  host: string;
  /** `readlink /proc/self/ns/pid` on Linux. */
  pidNamespace?: string;
  /** `/proc/sys/kernel/random/boot_id` on Linux. */
  bootId?: string;
  /** Tells this holding from a later one of the same process. */
  token: string;
}

/**
 * Holds a cross-process lock (a directory at `lockPath` with its owner inside) while `fn` runs. A holder of
 * this host, boot and pid namespace that is gone (even by SIGKILL, or its pid reused) is detected by its pid and
 * process start time, and its lock taken over at once. Any other holder (another host or container, or a lock
 * whose owner a full disk left unreadable) goes stale when it stops refreshing the lock for `staleMs`.
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
    await underBreakLock(lockPath, () => remove(lockPath, token)).catch((err: unknown) => log('lock %s: not released: %s', lockPath, err));
  }
}

async function acquire(lockPath: string, staleMs: number): Promise<string> {
  await mkdir(path.dirname(lockPath), { recursive: true });
  await removeLeftovers(lockPath);
  for (let attempt = 0; ; attempt++) {
    const token = await place(lockPath);
    if (token) return token;
    const held = await readOwner(lockPath);
    if (await isStale(lockPath, held, staleMs)) await underBreakLock(lockPath, () => breakIfStale(lockPath, staleMs));
    else await sleep(Math.min(250, 20 * 1.2 ** attempt));
  }
}

/**
 * Makes `target` a directory holding a fresh owner record, or returns undefined if it exists. The record is
 * written in a private directory first and renamed into place whole: a lock never exists without its owner,
 * and since it is never empty, a rename onto it fails (ENOTEMPTY/EEXIST) instead of merging two holders.
 */
async function place(target: string): Promise<string | undefined> {
  const owner: LockOwner = { pid: process.pid, startTime: processStartTime(process.pid), host: os.hostname(), ...here(), token: randomBytes(8).toString('hex') };
  // Made like mkdtemp, but with the mode a plain mkdir gives (the umask's), as the lock had before.
  const tmp = `${target}.tmp-${randomBytes(6).toString('hex')}`;
  await mkdir(tmp);
  try {
    await writeFile(path.join(tmp, 'owner.json'), JSON.stringify(owner)).catch(async (err: unknown) => {
      // A full disk may leave the record empty: waiters then fall back to the refresh time. An empty
      // directory, though, could be replaced by another holder's rename, so it is never placed.
      if ((await readdir(tmp)).length === 0) throw err;
      log('lock %s: owner not recorded: %s', target, err);
    });
    await rename(tmp, target);
    return owner.token;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') return undefined;
    throw err;
  }
}

async function readOwner(dir: string): Promise<LockOwner | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, 'owner.json'), 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

async function isStale(dir: string, owner: LockOwner | undefined, staleMs: number): Promise<boolean> {
  if (owner?.pid && pidIsMeaningfulHere(owner)) return !isAlive(owner.pid, owner.startTime);
  const st = await stat(dir).catch(() => undefined);
  return st !== undefined && st.mtimeMs < Date.now() - staleMs;
}

function pidIsMeaningfulHere(owner: LockOwner): boolean {
  const me = here();
  return owner.host === os.hostname() && owner.pidNamespace === me.pidNamespace && owner.bootId === me.bootId;
}

let hereCache: { pidNamespace?: string; bootId?: string } | undefined;

/** This process's pid namespace and boot (Linux only; elsewhere the host name alone tells). */
function here(): { pidNamespace?: string; bootId?: string } {
  if (hereCache) return hereCache;
  if (process.platform !== 'linux') return (hereCache = {});
  const read = (f: () => string): string | undefined => {
    try {
      return f();
    } catch {
      return undefined;
    }
  };
  return (hereCache = {
    pidNamespace: read(() => readlinkSync('/proc/self/ns/pid')),
    bootId: read(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()),
  });
}

/**
 * Runs `fn` holding `lockPath.break`, a short lock of its own that serialises breaking a stale lock and releasing
 * it: while it is held, the lock at `lockPath` can neither vanish nor be replaced, so a lock judged stale under it
 * is the one that is removed.
 */
async function underBreakLock(lockPath: string, fn: () => Promise<void>): Promise<void> {
  const breakPath = `${lockPath}.break`;
  for (let attempt = 0; ; attempt++) {
    const token = await place(breakPath);
    if (token) {
      try {
        return await fn();
      } finally {
        await remove(breakPath, token);
      }
    }
    const held = await readOwner(breakPath);
    if (await isStale(breakPath, held, BREAK_STALE_MS)) await moveAsideIf(breakPath, held?.token);
    else await sleep(Math.min(50, 2 * 1.5 ** attempt));
  }
}

async function breakIfStale(lockPath: string, staleMs: number): Promise<void> {
  const held = await readOwner(lockPath);
  if (!(await isStale(lockPath, held, staleMs))) return;
  if (await moveAsideIf(lockPath, held?.token)) {
    log('lock %s: broke the lock of %s', lockPath, held ? `dead pid ${held.pid}` : 'a holder that stopped refreshing it');
  }
}

/** Removes the lock at `dir` if it is still the holding `token`. */
async function remove(dir: string, token: string): Promise<void> {
  const owner = await readOwner(dir);
  if (owner && owner.token !== token) {
    log('lock %s was taken over while held (the holder looked dead)', dir);
    return;
  }
  await moveAsideIf(dir, token);
}

/**
 * Moves `dir` aside (atomically: no one sees it half-removed) and deletes it, if what was moved is the holding
 * `token` (undefined: a holding with no readable owner). Only a break lock that was itself wrongly judged stale
 * lets another holding be moved; it is put back, which fails rather than merges if a new one took its place.
 */
async function moveAsideIf(dir: string, token: string | undefined): Promise<boolean> {
  const aside = `${dir}.stale-${randomBytes(4).toString('hex')}`;
  try {
    await rename(dir, aside);
  } catch {
    return false; // gone already
  }
  const moved = await readOwner(aside);
  if (moved && moved.token !== token) {
    await rename(aside, dir).catch(() => log('lock %s: a live lock was moved aside and could not be put back', dir));
    return false;
  }
  await rm(aside, { recursive: true, force: true });
  return true;
}

/** Deletes temporary and moved-aside directories of `lockPath` that a process killed mid-step left behind. */
async function removeLeftovers(lockPath: string): Promise<void> {
  const parent = path.dirname(lockPath);
  const base = path.basename(lockPath);
  const names = await readdir(parent).catch(() => [] as string[]);
  const prefixes = [`${base}.tmp-`, `${base}.stale-`, `${base}.break.tmp-`, `${base}.break.stale-`];
  for (const name of names.filter((n) => prefixes.some((p) => n.startsWith(p)))) {
    const full = path.join(parent, name);
    const st = await stat(full).catch(() => undefined);
    if (st && st.mtimeMs < Date.now() - LEFTOVER_AGE_MS) await rm(full, { recursive: true, force: true }).catch(() => undefined);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
