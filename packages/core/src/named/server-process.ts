import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { commandLine, isAlive, processStartTime, waitForExit } from '../system/proc.js';
import type { NamedBranchMeta } from './named-meta.js';

/**
 * The live postmaster of a named branch's data directory, if any: the recorded one when it is still the same
 * process, else the one in postmaster.pid when it really serves this directory (a crash between starting the
 * server and recording it leaves such a server; it is adopted, not duplicated).
 */
export async function liveServer(dataDir: string, meta: NamedBranchMeta | undefined): Promise<{ pid: number; startTime?: string } | undefined> {
  if (meta?.server && isAlive(meta.server.pid, meta.server.startTime) && servesDir(meta.server.pid, dataDir)) return meta.server;
  const lines = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').then((s) => s.split('\n'), () => [] as string[]);
  const pid = Number(lines[0]);
  if (pid > 0 && isAlive(pid) && servesDir(pid, dataDir)) return { pid, startTime: processStartTime(pid) };
  return undefined;
}

function servesDir(pid: number, dataDir: string): boolean {
  const cmd = commandLine(pid);
  return cmd.includes('postgres') && cmd.includes(dataDir);
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
