import os from 'node:os';
import { removeDir } from '../cloners/remove-dir.js';
import { freshPrivateDir, isOwnDir } from '../system/private-dir.js';
import { CacheLayout } from './layout.js';

/**
 * A new private directory for sockets outside the cache (see CacheLayout.runDir): mkdtemp in the temp
 * directory (or /tmp when that path is too long for sockets), owned by this user, mode 0711 so that server
 * users reach their own socket directories inside but can neither list nor create anything.
 */
export function makeRunDir(): Promise<string> {
  const parent = CacheLayout.runDirFits(`${os.tmpdir()}/pgbranch-XXXXXX`) ? os.tmpdir() : '/tmp';
  return freshPrivateDir(parent, 'pgbranch-', 0o711);
}

/** Removes a run directory named in a record, only while it still is a private directory of this user. */
export async function removeRunDir(dir: string | undefined): Promise<void> {
  if (dir && (await isOwnDir(dir))) await removeDir(dir);
}
