import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { logger } from '../log.js';
import { HelperProcess, type Outcome } from './spawn-helper-process.js';

const log = logger('spawn');

/**
 * Starting a process costs its parent a fork of its whole address space: ~0.5 ms for a small Node process,
 * 5–6 ms inside a test runner's main process (vitest with its bundler loaded), where pool servers run. Every
 * branch starts a few (the server; mount and unmount, cp, btrfs or xfs_io for its clone), so a pool server
 * hands the starting to a small helper process (`useSpawnHelper`) and only sends it messages.
 *
 * A helper that never comes up (it cannot load, or does not answer its first request within 10 s) is given up
 * for the rest of this process and what it was asked runs here instead: it ran nothing. A helper that dies after
 * it has served is replaced (a few times at most), but what it was doing when it died fails with a clear error
 * rather than being run twice: a second server on the same data directory or a second mount would be worse.
 */

/** A process started by startProcess, directly or by the helper. */
export interface StartedProcess {
  readonly pid: number;
  /** Resolves once the process has exited. */
  readonly exited: Promise<void>;
  /** Its exit code or signal, once it has exited. */
  exitStatus(): string | undefined;
  kill(signal: NodeJS.Signals): void;
}

export interface StartOptions {
  /** stdout and stderr appended to this file (created 0600); discarded when undefined. */
  logFile?: string;
  uid?: number;
  gid?: number;
  /** In its own process group, so a Ctrl-C to the parent's group does not reach it. */
  detached: boolean;
  env: NodeJS.ProcessEnv;
}

/** Helpers started in this process after one died; past this, processes start directly. */
const MAX_RESTARTS = 3;

let helper: HelperProcess | undefined;
let wanted = false;
let restarts = 0;

/** From now on this process starts processes through the spawn helper (started at the first use). */
export function useSpawnHelper(): void {
  wanted = process.platform === 'linux';
}

/** Starts `file`; resolves once it runs (its pid is known), rejects when it cannot start (e.g. ENOENT). */
export async function startProcess(file: string, args: string[], options: StartOptions): Promise<StartedProcess> {
  const via = activeHelper();
  if (!via) return startDirectly(file, args, options);
  const outcome = await via.request({ t: 'spawn', file, args, ...options });
  if ('gone' in outcome) {
    if (outcome.neverServed) return startDirectly(file, args, options);
    throw new Error(`${outcome.gone} while starting ${file}`);
  }
  const { reply, running } = outcome;
  if (reply.t === 'error') throw Object.assign(new Error(reply.message), { code: reply.code });
  if (reply.t !== 'spawned' || !running) throw new Error(`the spawn helper answered ${reply.t} to a start of ${file}`);
  return {
    pid: running.pid,
    exited: running.exited,
    exitStatus: () => running.status,
    // Straight to the process: this process may signal its own servers, and the helper may be gone.
    kill: (signal) => {
      if (running.status !== undefined) return; // exited: its pid may be someone else's by now
      try {
        process.kill(running.pid, signal);
      } catch {
        // Gone already.
      }
    },
  };
}

/** A command's output, or its failure (exit status, timeout, ENOENT); see exec(). */
export type ExecOutcome = { stdout: string; stderr: string; failure?: { message: string; code?: string } };

/**
 * Runs a command to its end through the helper; undefined when the helper is not in use, or never came up (run
 * it directly). Rejects when the helper died while running it.
 */
export function execThroughHelper(
  file: string,
  args: readonly string[],
  options: { timeoutMs: number; env?: NodeJS.ProcessEnv; uid?: number; gid?: number },
): Promise<ExecOutcome> | undefined {
  const via = activeHelper();
  if (!via) return undefined;
  // This process's environment as it is now, not as it was when the helper started.
  const request = via.request({ t: 'exec', file, args: [...args], ...options, env: options.env ?? { ...process.env } });
  return request.then((outcome: Outcome) => {
    if ('gone' in outcome) {
      if (outcome.neverServed) throw Object.assign(new Error(outcome.gone), { code: NEVER_SERVED });
      throw new Error(`${outcome.gone} while running ${file}`);
    }
    if (outcome.reply.t !== 'done') throw new Error(`the spawn helper answered ${outcome.reply.t} to ${file}`);
    return outcome.reply;
  });
}

/** exec() runs a command itself when the helper failed with this code (it never came up, so it ran nothing). */
export const NEVER_SERVED = 'PGBRANCH_SPAWN_HELPER_NEVER_SERVED';

function activeHelper(): HelperProcess | undefined {
  if (!wanted) return undefined;
  if (helper && !helper.dead) return helper;
  try {
    helper = new HelperProcess((why, served) => {
      if (!served) wanted = false; // it never came up: it would not next time either
      else if (++restarts > MAX_RESTARTS) wanted = false;
      log('spawn helper %s; %s', why, wanted ? 'the next process starts a new one' : 'starting processes directly from now on');
    });
  } catch (err) {
    log('spawn helper unavailable, starting processes directly: %s', (err as Error).message);
    wanted = false;
    return undefined;
  }
  return helper;
}

function startDirectly(file: string, args: string[], options: StartOptions): Promise<StartedProcess> {
  const out = options.logFile === undefined ? 'ignore' : openSync(options.logFile, 'a', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(file, args, {
      ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid }),
      stdio: ['ignore', out, out],
      detached: options.detached,
      env: options.env,
    });
  } finally {
    if (typeof out === 'number') closeSync(out);
  }
  // The owner stops its processes itself; a running child must not keep this process alive.
  child.unref();
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('spawn', () => {
      const exited = new Promise<void>((done) => (child.exitCode !== null || child.signalCode !== null ? done() : child.once('exit', () => done())));
      resolve({
        pid: child.pid!,
        exited,
        exitStatus: () => (child.exitCode ?? child.signalCode ?? undefined)?.toString(),
        kill: (signal) => void child.kill(signal),
      });
    });
  });
}
