import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { CacheDirError, describeCause, hintFor } from '../errors.js';
import { processStartTime } from '../system/proc.js';
import type { CacheLayout } from './layout.js';
import { openSession, type SessionRecord } from './session.js';

/**
 * What an engine is opened for. `build` (createEngine) may make snapshots and branches, so it writes its owner
 * record and probes the cloners. `maintain` only acts on named branches and leftovers (rm, suspend, gc): nothing it
 * does is filed under an owner record, so it writes none and probes nothing — it works on a full disk, which it
 * may be freeing. `read` writes nothing at all (ls, url): it works on a read-only cache directory.
 */
export type EngineUse = 'build' | 'maintain' | 'read';

/** Writes the owner record; a full disk or a read-only cache directory is named as such. */
export async function writeSession(layout: CacheLayout): Promise<SessionRecord> {
  try {
    return await openSession(layout);
  } catch (err) {
    throw new CacheDirError(`Cannot write an owner record in ${layout.sessions}: ${describeCause(err)}.${hintFor(err)}`, { cause: err });
  }
}

/** An owner identity kept in memory only, for engines that make nothing to file under it. */
export function unrecordedSession(): SessionRecord {
  return { id: randomBytes(4).toString('hex'), pid: process.pid, startTime: processStartTime(process.pid), host: os.hostname(), createdAt: new Date().toISOString() };
}
