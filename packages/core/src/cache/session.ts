import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { isAlive, processStartTime } from '../system/proc.js';
import type { CacheLayout } from './layout.js';
import { makeRunDir, removeRunDir } from './run-dir.js';

/** The owner record of one engine: everything it makes is filed under its id. */
export interface SessionRecord {
  id: string;
  pid: number;
  /** Process start time, so a reused pid is not mistaken for a live owner. */
  startTime?: string;
  host: string;
  createdAt: string;
  /** The engine's private directory for sockets outside the cache (CacheLayout.runDir), removed with it. */
  runDir?: string;
}

/** Writes a new owner record for this process, with its run directory (made now, set on `layout`). */
export async function openSession(layout: CacheLayout): Promise<SessionRecord> {
  const record: SessionRecord = {
    id: randomBytes(4).toString('hex'),
    pid: process.pid,
    startTime: processStartTime(process.pid),
    host: os.hostname(),
    createdAt: new Date().toISOString(),
  };
  // Owner records and the pool socket: only this user writes here (a umask of 002 must not make it group-writable).
  await mkdir(layout.sessions, { recursive: true, mode: 0o755 });
  await chmodIfOurs(layout.sessions, 0o755);
  record.runDir = await makeRunDir();
  layout.runDir = record.runDir;
  // Written then renamed, so a reaper in another process never reads half a record.
  const tmp = `${layout.session(record.id)}.tmp`;
  try {
    await writeFile(tmp, JSON.stringify(record));
    await rename(tmp, layout.session(record.id));
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined); // a full disk leaves the file created but empty
    await removeRunDir(record.runDir).catch(() => undefined);
    throw err;
  }
  return record;
}

/** A directory we made (not a symlink, ours) gets `mode`, whatever the umask was. */
async function chmodIfOurs(dir: string, mode: number): Promise<void> {
  const st = await lstat(dir);
  if (st.isDirectory() && st.uid === process.getuid?.() && (st.mode & 0o777) !== mode) await chmod(dir, mode);
}

/** Removes an owner record and the run directory it names. */
export async function closeSession(layout: CacheLayout, id: string, record?: SessionRecord): Promise<void> {
  await removeRunDir(record?.runDir);
  await rm(layout.session(id), { force: true });
}

/** Reads every owner record; unreadable ones count as dead. */
export async function listSessions(layout: CacheLayout): Promise<Map<string, SessionRecord | undefined>> {
  const out = new Map<string, SessionRecord | undefined>();
  const names = await readdir(layout.sessions).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    const id = name.slice(0, -5);
    const text = await readFile(layout.session(id), 'utf8').catch(() => undefined);
    out.set(id, parseRecord(text));
  }
  return out;
}

function parseRecord(text: string | undefined): SessionRecord | undefined {
  try {
    return text ? (JSON.parse(text) as SessionRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** True when the record's process still runs on this host. Records of other hosts count as alive. */
export function sessionAlive(record: SessionRecord | undefined): boolean {
  if (!record) return false;
  if (record.host !== os.hostname()) return true;
  return isAlive(record.pid, record.startTime);
}
