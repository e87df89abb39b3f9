import { link, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { freshPrivateDir } from '../system/private-dir.js';
import { CacheLayout } from './layout.js';

/**
 * Makes sure the cache directory has a usable run directory (see CacheLayout.runDir): reuses the recorded one
 * while it is still a private directory of this user, else makes a new one with mkdtemp and records it.
 * Mode 0711: server users reach their own socket directories inside, but cannot list or create anything.
 */
export async function prepareRunDir(layout: CacheLayout): Promise<string> {
  const current = layout.runDir;
  if (current) return current;
  const parent = CacheLayout.runDirFits(`${os.tmpdir()}/pgbranch-XXXXXX`) ? os.tmpdir() : '/tmp';
  const made = await freshPrivateDir(parent, 'pgbranch-', 0o711);
  // Published with link(): exactly one of several engines starting at once wins; the others use its directory.
  const tmp = `${layout.runDirRecord}.${process.pid}.${Date.now()}`;
  await writeFile(tmp, made + '\n', { mode: 0o644 });
  try {
    await link(tmp, layout.runDirRecord);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    layout.runDir = undefined;
    const winner = layout.runDir;
    if (winner) {
      await rmdir(made).catch(() => undefined);
      return winner;
    }
    // The recorded directory is gone or no longer ours (e.g. the temp dir was cleaned): replace the record.
    await rename(tmp, layout.runDirRecord);
    layout.runDir = made;
    return made;
  } finally {
    await rm(tmp, { force: true });
  }
  layout.runDir = made;
  return made;
}
