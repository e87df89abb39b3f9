import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { exec } from '../system/exec.js';

/**
 * macOS clones (experimental, not run in CI): APFS `clonefile(2)` through BSD `cp -c`. The filesystem is
 * checked first because a copy that quietly falls back to bytes must not be reported as a clone.
 */

/** The system's BSD cp: a GNU cp earlier on PATH (Homebrew coreutils) reads -c differently. */
const BSD_CP = '/bin/cp';

/** The filesystem type of the mount that holds a path, from `df -P <path>` and `mount` output. Pure, for tests. */
export function filesystemTypeAt(dfOutput: string, mountOutput: string): string | undefined {
  const last = dfOutput.trim().split('\n').at(-1) ?? '';
  // df -P: "Filesystem 512-blocks Used Available Capacity Mounted on"; the mount point is the rest after the 5th field.
  const mountPoint = /^\S+\s+\d+\s+\d+\s+\d+\s+\d+%\s+(.+)$/.exec(last)?.[1];
  if (!mountPoint) return undefined;
  for (const line of mountOutput.split('\n')) {
    // "/dev/disk3s5 on /System/Volumes/Data (apfs, local, journaled, nobrowse)"
    const m = /^.+? on (.+) \(([^,)]+)/.exec(line);
    if (m?.[1] === mountPoint) return m[2]!.trim();
  }
  return undefined;
}

/** Resolves with why clones work in `dir`, rejects with why not. */
export async function probeApfsClone(dir: string): Promise<string> {
  const [df, mount] = await Promise.all([exec('/bin/df', ['-P', dir]), exec('/sbin/mount', [])]);
  const type = filesystemTypeAt(df.stdout, mount.stdout);
  if (type !== 'apfs') throw new Error(`the cache directory is on ${type ?? 'an unknown filesystem'}, not APFS`);
  const src = path.join(dir, 'a');
  await writeFile(src, 'probe');
  await exec(BSD_CP, ['-c', src, path.join(dir, 'b')]);
  return 'the cache directory is on APFS: clonefile clones, per-file copy-on-write';
}

/** Clones a directory tree (which must not exist yet) keeping modes and, as root, owners. */
export async function cloneTreeApfs(source: string, target: string): Promise<void> {
  await exec(BSD_CP, ['-c', '-pR', source, target]);
}
