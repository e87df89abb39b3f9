import { readdirSync, readlinkSync } from 'node:fs';
import { readdir, readFile, realpath, rm } from 'node:fs/promises';
import path from 'node:path';
import { logger } from '../../log.js';
import { hasExited, servesDataDir } from '../../system/proc.js';

const log = logger('server');
/** A SIGKILLed postmaster's children notice its death within moments; wait this long for them at most. */
const ORPHANS_GRACE_MS = 5000;

/**
 * Clears what a killed server left before a new server starts on its data directory and socket directory: Postgres
 * refuses to start while postmaster.pid (or a socket's `.s.PGSQL.PORT.lock`) names a process that still exists, and a
 * killed postmaster stays a zombie until its new parent reaps it (seconds, in some containers). A file is removed
 * only when its pid is gone (or a zombie) or is not a postgres of this directory; the dead server's children, which
 * keep its shared memory attached, are waited for first. True when something stale was removed.
 */
export async function clearStaleServerFiles(dataDir: string, socketDir: string): Promise<boolean> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  const stale = [pidFile, ...(await readdir(socketDir).catch(() => [] as string[])).filter((n) => /^\.s\.PGSQL\.\d+\.lock$/.test(n)).map((n) => path.join(socketDir, n))];
  const remove: string[] = [];
  for (const file of stale) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const pid = Number(text.split('\n')[0]);
    if (pid > 0 && !hasExited(pid) && servesDataDir(pid, dataDir)) return false; // a live server: Postgres says so itself
    remove.push(file);
  }
  if (remove.length === 0) return false;
  const real = await realpath(dataDir).catch(() => dataDir);
  const deadline = Date.now() + ORPHANS_GRACE_MS;
  while (processesIn(real).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  for (const file of remove) {
    await rm(file, { force: true });
    if (file.endsWith('.lock')) await rm(file.slice(0, -'.lock'.length), { force: true }); // its socket
  }
  log('removed what a killed server left: %o', remove);
  return true;
}

/** Live processes working in `dataDir` (every postgres process's working directory is its data directory). Linux only. */
function processesIn(dataDir: string): number[] {
  if (process.platform !== 'linux') return [];
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/cwd`) === dataDir && !hasExited(Number(name))) found.push(Number(name));
    } catch {
      // Gone, or not ours to read.
    }
  }
  return found;
}
