import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';

/** Branch and snapshot names: they become file names, so no separators, no leading dot, at most 63 characters. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/i;

/** Throws a UsageError naming what is wrong with `name` (`what` is "Branch" or "Snapshot"). */
export function assertName(what: 'Branch' | 'Snapshot', name: string): void {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new UsageError(`${what} name "${name}" is not valid: use 1–63 letters, digits, ".", "_" or "-", starting with a letter or digit.`);
  }
}

/**
 * One snapshot (one recipe hash) can be asked for under several names: each name it was requested as is
 * recorded as an empty file in `<snapshot>/names/`, so `pgbranch create --from NAME` finds it by any of them.
 * A file per name needs no lock: two processes adding names at once both succeed.
 */
export async function addSnapshotName(snapshotDir: string, name: string): Promise<void> {
  assertName('Snapshot', name);
  const dir = path.join(snapshotDir, 'names');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, name), '');
}

/** The names recorded for a snapshot (besides the one it was built as). */
export async function snapshotNames(snapshotDir: string): Promise<string[]> {
  const entries = await readdir(path.join(snapshotDir, 'names')).catch(() => [] as string[]);
  return entries.filter((n) => NAME_PATTERN.test(n)).sort();
}
