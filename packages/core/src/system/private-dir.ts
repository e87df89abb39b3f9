import { constants } from 'node:fs';
import { lstat, mkdir, mkdtemp, open, realpath } from 'node:fs/promises';
import path from 'node:path';
import { UnsafePathError } from '../errors.js';

/** Who a private directory is handed to (the server user), when it is not the current user. */
export interface DirOwner {
  uid: number;
  gid: number;
}

const me = (): number => process.getuid?.() ?? 0;

/**
 * Makes (or reuses) the directory `dir` for one owner and mode, without ever following a path another user
 * controls: its parent must be a real directory of this user (or root) that nobody else can write to, `dir`
 * itself must not be a symlink and may only already belong to this user or to `owner`, and the owner and mode
 * are set on the opened directory (fchown/fchmod), not through the path.
 */
export async function privateDir(dir: string, mode: number, owner?: DirOwner): Promise<string> {
  await assertPrivateParent(dir);
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  await settle(dir, mode, owner);
  return dir;
}

/**
 * A fresh directory with an unpredictable name under `parent` (e.g. the temp directory), made by mkdtemp:
 * nobody can have planted anything there. Mode and owner are set on the opened directory.
 */
export async function freshPrivateDir(parent: string, prefix: string, mode: number, owner?: DirOwner): Promise<string> {
  const dir = await mkdtemp(path.join(parent, prefix));
  await settle(dir, mode, owner);
  return dir;
}

/**
 * Checks that an existing directory (where a symlink leads, for a configured path) belongs to this user and sets
 * its mode on the opened directory: e.g. a cache directory another user made in advance is refused.
 */
export async function ownDir(dir: string, mode: number): Promise<void> {
  await settle(await realpath(dir), mode, undefined);
}

/**
 * True when `dir` is a real directory of this user that no one else can write to: what a recorded
 * scratch directory (e.g. in /tmp) must still be before it is reused.
 */
export async function isOwnDir(dir: string): Promise<boolean> {
  const st = await lstat(dir).catch(() => undefined);
  return !!st && st.isDirectory() && st.uid === me() && (st.mode & 0o022) === 0;
}

async function settle(dir: string, mode: number, owner: DirOwner | undefined): Promise<void> {
  let handle;
  try {
    handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOTDIR') throw refusal(dir, 'it is a symlink or not a directory');
    throw err;
  }
  try {
    const st = await handle.stat();
    if (st.uid !== me() && st.uid !== owner?.uid) throw refusal(dir, `it belongs to uid ${st.uid}, not to pgbranch`);
    if (owner && me() === 0) await handle.chown(owner.uid, owner.gid);
    await handle.chmod(mode);
  } finally {
    await handle.close();
  }
}

/** The parent of `dir` (a directory or socket) must be ours (or root's) and writable by nobody else, so no one can swap `dir` under us. */
export async function assertPrivateParent(dir: string): Promise<void> {
  const parent = path.dirname(path.resolve(dir));
  const st = await lstat(parent).catch(() => undefined);
  if (!st) return; // mkdir then fails with ENOENT, which says more
  if (!st.isDirectory()) throw refusal(dir, `its parent ${parent} is a symlink or not a directory`);
  if ((st.uid !== me() && st.uid !== 0) || (st.mode & 0o022) !== 0) {
    throw refusal(dir, `its parent ${parent} can be changed by another user (uid ${st.uid}, mode ${(st.mode & 0o7777).toString(8)})`);
  }
}

function refusal(dir: string, why: string): UnsafePathError {
  return new UnsafePathError(
    `pgbranch will not use ${dir}: ${why}. Another local user may have planted it; remove it (after checking what it is) ` +
      'or set PGBRANCH_CACHE_DIR to a shorter path inside a directory only you can write to.',
  );
}
