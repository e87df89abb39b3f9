import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Process facts come from /proc on Linux and from `ps` elsewhere (macOS has no /proc). `platform` is a
 * parameter so that the `ps` path is tested on Linux too (procps and BSD ps agree on these fields).
 */
type Platform = NodeJS.Platform;

/** Start time of a process (Linux: clock ticks since boot; elsewhere: `ps` lstart), used to tell a live owner from a reused pid. */
export function processStartTime(pid: number, platform: Platform = process.platform): string | undefined {
  if (platform !== 'linux') return psField(pid, 'lstart');
  try {
    return statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'))[19];
  } catch {
    return undefined;
  }
}

/** Fields of /proc/<pid>/stat after the command name (which may contain spaces and parentheses): [0] is the state. */
export function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** True if `pid` is running and (where the platform tells) is the same process that was started at `startTime`. */
export function isAlive(pid: number, startTime?: string, platform: Platform = process.platform): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (!startTime) return true;
  const now = processStartTime(pid, platform);
  return now === undefined || now === startTime;
}

/** Command line of a process, or '' when it is gone or unreadable. */
export function commandLine(pid: number, platform: Platform = process.platform): string {
  if (platform !== 'linux') return psField(pid, 'command') ?? '';
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** One `ps` column for `pid`, or undefined when the process is gone. */
function psField(pid: number, field: 'lstart' | 'command' | 'stat'): string | undefined {
  try {
    const out = execFileSync('ps', ['-o', `${field}=`, '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return out || undefined;
  } catch {
    return undefined;
  }
}

/** Waits until `pid` is gone, polling; resolves false after `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (hasExited(pid)) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return hasExited(pid);
}

/** True when `pid` has exited (or is a zombie nobody reaped yet): usable where the event loop does not run. */
export function hasExited(pid: number, platform: Platform = process.platform): boolean {
  if (!isAlive(pid)) return true;
  if (platform !== 'linux') return psField(pid, 'stat')?.startsWith('Z') ?? true;
  try {
    return statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'))[0] === 'Z';
  } catch {
    return true;
  }
}

/** Sleeps synchronously (for exit handlers only). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Sends `signal` and waits (synchronously, up to `timeoutMs`) for the process to exit; SIGKILL after that. */
export function killSync(pid: number, signal: NodeJS.Signals, timeoutMs: number): void {
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (!hasExited(pid) && Date.now() < deadline) sleepSync(5);
  if (!hasExited(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
}

/** Whether `pid` is a postgres serving `dataDir` (a pid file can outlive its server, and the pid be reused). */
export function servesDataDir(pid: number, dataDir: string, platform: Platform = process.platform): boolean {
  const cmd = commandLine(pid, platform);
  return cmd.includes('postgres') && cmd.includes(dataDir);
}
