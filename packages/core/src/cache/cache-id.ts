import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';

/**
 * This cache directory's identity on this machine. Containers and images are labelled with it, so that two machines
 * whose cache directories have the same path (two CI runners, both /root/.cache/pgbranch) and share one Docker engine
 * never take each other's containers for their own. It is derived from a random value made once and kept in the
 * directory, and from the machine: a cache directory copied to another machine (a CI cache restored on two runners)
 * has another identity there, without anything being rewritten.
 */
export async function loadCacheId(file: string, machine = machineIdentity()): Promise<string> {
  const existing = await readFile(file, 'utf8').catch(() => '');
  if (existing.trim()) return identity(existing.trim(), machine);
  // Written beside, then linked into place: a concurrent reader sees no file or the whole value, never half of it.
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(draft, randomBytes(12).toString('hex'), { mode: 0o644 });
  try {
    await link(draft, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // another process made it first: its value wins
  } finally {
    await rm(draft, { force: true });
  }
  return identity((await readFile(file, 'utf8')).trim(), machine);
}

/** The cache directory's identity without creating it ('' when none was made: nothing can carry it yet). */
export async function readCacheId(file: string, machine = machineIdentity()): Promise<string> {
  const value = (await readFile(file, 'utf8').catch(() => '')).trim();
  return value ? identity(value, machine) : '';
}

function identity(value: string, machine: string): string {
  return createHash('sha256').update(`${value}|${machine}`).digest('hex').slice(0, 24);
}

/** What tells this machine from another: its host name, and its machine id where the system has one. */
export function machineIdentity(): string {
  let machineId = '';
  try {
    machineId = readFileSync('/etc/machine-id', 'utf8').trim();
  } catch {
    // macOS and some containers have none: the host name alone.
  }
  return `${os.hostname()}|${machineId}`;
}
