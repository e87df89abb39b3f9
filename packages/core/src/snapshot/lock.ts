import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { logger } from '../log.js';

const log = logger('lock');

/**
 * Holds a cross-process lock while `fn` runs. A holder that dies (even by SIGKILL) stops refreshing
 * the lock, which goes stale after a few seconds so a waiter can take over.
 */
export async function withLock<T>(lockPath: string, fn: () => Promise<T>, timing: { staleMs?: number } = {}): Promise<T> {
  await mkdir(path.dirname(lockPath), { recursive: true });
  const stale = timing.staleMs ?? 10_000;
  const release = await lockfile.lock(lockPath, {
    realpath: false,
    stale,
    update: Math.round(stale / 5),
    retries: { retries: 100_000, factor: 1.2, minTimeout: 20, maxTimeout: 250 },
    onCompromised: (err) => log('lock %s compromised: %s', lockPath, err.message),
  });
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}
