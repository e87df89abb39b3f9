import { randomBytes } from 'node:crypto';
import { link, readFile, rm, writeFile } from 'node:fs/promises';

/**
 * This cache directory's identity: random, made once and kept in the directory. Containers and images are labelled
 * with it, so that two machines whose cache directories have the same path (two CI runners, both
 * /root/.cache/pgbranch) and share one Docker engine never take each other's containers for their own.
 */
export async function loadCacheId(file: string): Promise<string> {
  const existing = await readCacheId(file);
  if (existing) return existing;
  // Written beside, then linked into place: a concurrent reader sees no file or the whole id, never half of it.
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(draft, randomBytes(12).toString('hex'), { mode: 0o644 });
  try {
    await link(draft, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // another process made it first: its id wins
  } finally {
    await rm(draft, { force: true });
  }
  return (await readFile(file, 'utf8')).trim();
}

/** The cache directory's identity without creating it ('' when none was made: nothing can carry it yet). */
export async function readCacheId(file: string): Promise<string> {
  return (await readFile(file, 'utf8').catch(() => '')).trim();
}
