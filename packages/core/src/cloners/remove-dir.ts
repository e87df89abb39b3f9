import { execFileSync } from 'node:child_process';
import { lstatSync, readdirSync, rmSync, statfsSync } from 'node:fs';
import { lstat, readdir, rm, statfs } from 'node:fs/promises';
import path from 'node:path';
import { exec } from '../system/exec.js';
import { mountsUnder, unmount } from '../system/mounts.js';

const BTRFS_MAGIC = 0x9123683e;
/** btrfs gives every subvolume root this inode number. */
const BTRFS_SUBVOLUME_INODE = 256;

/**
 * Removes a directory made by any cloner: unmounts overlays below it, deletes btrfs subvolumes,
 * then deletes the rest. Missing directories are fine. Used by destroy, engine disposal and reaping alike.
 */
export async function removeDir(dir: string): Promise<void> {
  for (const mountPoint of mountsUnder(dir)) await unmount(mountPoint);
  for (const subvolume of await subvolumesUnder(dir, 3)) {
    await exec('btrfs', ['subvolume', 'delete', subvolume]).catch(() => undefined);
  }
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

async function subvolumesUnder(dir: string, depth: number): Promise<string[]> {
  if (process.platform !== 'linux') return [];
  const fs = await statfs(dir).catch(() => undefined);
  if (!fs || fs.type !== BTRFS_MAGIC) return [];
  const found: string[] = [];
  const visit = async (current: string, left: number): Promise<void> => {
    const st = await lstat(current).catch(() => undefined);
    if (!st?.isDirectory()) return;
    if (left > 0) {
      const entries = await readdir(current, { withFileTypes: true }).catch(() => []);
      for (const e of entries) if (e.isDirectory()) await visit(path.join(current, e.name), left - 1);
    }
    if (st.ino === BTRFS_SUBVOLUME_INODE) found.push(current);
  };
  await visit(dir, depth);
  return found; // children before parents
}

/**
 * Synchronous variant for process exit, where no promise will ever settle: lazy unmounts,
 * subvolume deletes and a recursive delete, all best effort.
 */
export function removeDirSync(dir: string): void {
  for (const mountPoint of mountsUnder(dir)) {
    try {
      execFileSync('umount', ['-l', mountPoint], { stdio: 'ignore' });
    } catch {
      // Already gone.
    }
  }
  try {
    if (process.platform === 'linux' && statfsSync(dir).type === BTRFS_MAGIC) {
      for (const sub of subvolumesUnderSync(dir, 3)) {
        try {
          execFileSync('btrfs', ['subvolume', 'delete', sub], { stdio: 'ignore' });
        } catch {
          // rmSync below still tries.
        }
      }
    }
  } catch {
    // Missing directory.
  }
  rmSync(dir, { recursive: true, force: true });
}

function subvolumesUnderSync(dir: string, depth: number): string[] {
  const found: string[] = [];
  const visit = (current: string, left: number): void => {
    let st;
    try {
      st = lstatSync(current);
    } catch {
      return;
    }
    if (!st.isDirectory()) return;
    if (left > 0) {
      for (const e of readdirSync(current, { withFileTypes: true })) if (e.isDirectory()) visit(path.join(current, e.name), left - 1);
    }
    if (st.ino === BTRFS_SUBVOLUME_INODE) found.push(current);
  };
  visit(dir, depth);
  return found;
}
