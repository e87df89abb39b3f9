import { readFile, statfs } from 'node:fs/promises';
import pg from 'pg';
import path from 'node:path';
import { CacheDirError, describeCause, hintFor, ServerStartError } from '../../errors.js';
import { isAlive, processStartTime, servesDataDir, waitForExit } from '../../system/proc.js';
import type { NamedBranchMeta } from '../../cache/named-record.js';

/**
 * The live postmaster of a named branch's data directory, if any: the recorded one when it is still the same
 * process, else the one in postmaster.pid when it really serves this directory (a crash between starting the
 * server and recording it leaves such a server; it is adopted, not duplicated).
 */
export async function liveServer(dataDir: string, meta: NamedBranchMeta | undefined): Promise<{ pid: number; startTime?: string } | undefined> {
  if (meta?.server && isAlive(meta.server.pid, meta.server.startTime) && servesDataDir(meta.server.pid, dataDir)) return meta.server;
  const lines = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').then((s) => s.split('\n'), () => [] as string[]);
  const pid = Number(lines[0]);
  if (pid > 0 && isAlive(pid) && servesDataDir(pid, dataDir)) return { pid, startTime: processStartTime(pid) };
  return undefined;
}

/**
 * Stops a postmaster this process may not have started. 'fast' checkpoints and shuts down cleanly (the data is
 * kept); 'immediate' does not (the data is thrown away or recovered at the next start). SIGKILL after the timeout.
 */
export async function stopServerProcess(server: { pid: number }, mode: 'fast' | 'immediate', timeoutMs = 30_000): Promise<void> {
  try {
    process.kill(server.pid, mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
  } catch {
    return;
  }
  if (await waitForExit(server.pid, timeoutMs)) return;
  try {
    process.kill(server.pid, 'SIGKILL');
  } catch {
    // Gone meanwhile.
  }
  await waitForExit(server.pid, 5000);
}

/**
 * Runs one query on a server that just started. A server starts on a full disk and then refuses every connection
 * ("could not write init file: No space left on device"): a branch is running only once it answers.
 */
export async function assertAnswers(connection: pg.ClientConfig, label: string): Promise<void> {
  const client = new pg.Client({ ...connection, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
  } catch (err) {
    const diskFull = (err as { code?: string }).code === '53100' || /no space left on device/i.test(describeCause(err));
    if (diskFull) throw new CacheDirError(`${label} started but cannot serve: ${describeCause(err)}.${hintFor({ code: 'ENOSPC' })}`, { cause: err });
    throw new ServerStartError(`${label} started but does not answer a query: ${describeCause(err)}.`, '', { cause: err });
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Less free space than this on a server's filesystem explains a failed start (with a log too short to say why). */
const NEARLY_FULL_BYTES = 1024 * 1024;

/** An error saying the disk is full when the filesystem of `dir` is (nearly) full; undefined otherwise. */
export async function diskFullError(dir: string, what: string, err: unknown): Promise<CacheDirError | undefined> {
  const fs = await statfs(dir).catch(() => undefined);
  if (!fs || fs.bavail * fs.bsize >= NEARLY_FULL_BYTES) return undefined;
  return new CacheDirError(`${what}: the filesystem of ${dir} has ${Math.round((fs.bavail * fs.bsize) / 1024)} KB left (${(err instanceof Error ? err.message : String(err)).split('\n')[0]!.replace(/[.:]\s*$/, '')}).${hintFor({ code: 'ENOSPC' })}`, { cause: err });
}
