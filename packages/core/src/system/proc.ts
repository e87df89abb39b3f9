import { readFileSync } from 'node:fs';

/** Start time of a process in clock ticks since boot (Linux), used to tell a live owner from a reused pid. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

/** True if `pid` is running and (where the platform tells) is the same process that was started at `startTime`. */
export function isAlive(pid: number, startTime?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (!startTime) return true;
  const now = processStartTime(pid);
  return now === undefined || now === startTime;
}

/** Command line of a process, or '' when it is gone or unreadable. */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
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
export function hasExited(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return !isAlive(pid);
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
