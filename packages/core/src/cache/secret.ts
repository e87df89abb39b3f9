import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';

/**
 * The superuser password of this cache directory's clusters: random, made once, readable only by
 * its owner. Anyone who can read the cache can read the data anyway; this keeps other local users
 * off the 127.0.0.1 ports.
 */
export async function loadSecret(file: string): Promise<string> {
  try {
    await writeFile(file, randomBytes(18).toString('base64url'), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return (await readFile(file, 'utf8')).trim();
}

/** The cache directory's password without creating it (none yet: no branch can exist to connect to). */
export async function readSecret(file: string): Promise<string> {
  return (await readFile(file, 'utf8').catch(() => '')).trim();
}
