import { fork, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { logger } from '../log.js';
import { hasExited } from './proc.js';
import type { HelperReply, HelperRequest } from './spawn-helper-protocol.js';

const log = logger('spawn');

/**
 * Starting a process costs its parent a fork of its whole address space: ~0.5 ms for a small Node process,
 * 5–6 ms inside a test runner's main process (vitest with its bundler loaded), where pool servers run. Every
 * branch starts up to three (the server, a mount, an unmount), so a pool server hands the starting to a small
 * helper process (`useSpawnHelper`) and only sends it messages. When the helper cannot start or dies, processes
 * start directly again: slower, never wrong.
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

/** The error code of requests the helper did not answer because it exited. */
const HELPER_GONE = 'PGBRANCH_SPAWN_HELPER_GONE';

let helper: Helper | undefined;
let wanted = false;

/** From now on this process starts processes through the spawn helper (started at the first use). */
export function useSpawnHelper(): void {
  wanted = process.platform === 'linux';
}

/** Starts `file`; resolves once it runs (its pid is known), rejects when it cannot start (e.g. ENOENT). */
export function startProcess(file: string, args: string[], options: StartOptions): Promise<StartedProcess> {
  const via = activeHelper();
  return via ? via.start(file, args, options) : startDirectly(file, args, options);
}

/** Runs a command to its end through the helper; undefined when the helper is not in use (run it directly). */
export function execThroughHelper(
  file: string,
  args: readonly string[],
  options: { timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<{ stdout: string; stderr: string; failure?: { message: string; code?: string } }> | undefined {
  return activeHelper()?.exec(file, [...args], options);
}

function activeHelper(): Helper | undefined {
  if (!wanted) return undefined;
  if (!helper || helper.dead) {
    try {
      helper = new Helper();
    } catch (err) {
      log('spawn helper unavailable, starting processes directly: %s', (err as Error).message);
      wanted = false;
      return undefined;
    }
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

/** A process the helper started, until it exits. */
interface Running {
  pid: number;
  status?: string;
  exited: Promise<void>;
  done: () => void;
}

/** The helper process, the requests waiting for its answers and the processes it started. */
class Helper {
  dead = false;
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: HelperReply) => void>();
  private readonly running = new Map<number, Running>();

  constructor() {
    const main = fileURLToPath(new URL('./spawn-helper-main.js', import.meta.url));
    this.child = fork(main, [], { detached: true, stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [], serialization: 'json' });
    this.child.on('message', (reply: HelperReply) => this.receive(reply));
    this.child.once('error', (err) => this.die(err.message));
    this.child.once('exit', (code, signal) => this.die(`exited (${code ?? signal})`));
    this.unref();
  }

  async start(file: string, args: string[], options: StartOptions): Promise<StartedProcess> {
    const id = this.nextId++;
    const reply = await this.request(id, { t: 'spawn', id, file, args, ...options }).catch(() => undefined);
    // The helper went away before answering: start it here.
    if (!reply || (reply.t === 'error' && reply.code === HELPER_GONE)) return startDirectly(file, args, options);
    if (reply.t === 'error') throw Object.assign(new Error(`spawn ${file} ${reply.code ?? ''}: ${reply.message}`), { code: reply.code });
    const running = this.running.get(id);
    if (reply.t !== 'spawned' || !running) throw new Error(`spawn helper: unexpected reply ${reply.t}`);
    return {
      pid: running.pid,
      exited: running.exited,
      exitStatus: () => running.status,
      // Signals go straight to the process: the helper may be gone, and this process may signal its own servers.
      kill: (signal) => {
        try {
          process.kill(running.pid, signal);
        } catch {
          // Gone already.
        }
      },
    };
  }

  async exec(file: string, args: string[], options: { timeoutMs: number; env?: NodeJS.ProcessEnv }) {
    const id = this.nextId++;
    const reply = await this.request(id, { t: 'exec', id, file, args, timeoutMs: options.timeoutMs, env: options.env });
    if (reply.t !== 'done') throw new Error(`spawn helper: ${reply.t === 'error' ? reply.message : `unexpected reply ${reply.t}`}`);
    return reply;
  }

  private request(id: number, message: HelperRequest): Promise<HelperReply> {
    if (this.dead) return Promise.reject(new Error('the spawn helper has exited'));
    return new Promise((resolve, reject) => {
      this.waiting.set(id, resolve);
      this.ref();
      this.child.send(message, (err) => {
        if (!err) return;
        this.waiting.delete(id);
        this.unrefWhenIdle();
        reject(err);
      });
    });
  }

  private receive(reply: HelperReply): void {
    if (reply.t === 'spawned') {
      // Registered before anyone hears of it, so an exit reported right after is never missed.
      let done = () => undefined as void;
      const exited = new Promise<void>((resolve) => (done = resolve));
      this.running.set(reply.id, { pid: reply.pid, exited, done });
    } else if (reply.t === 'exit') {
      const running = this.running.get(reply.id);
      this.running.delete(reply.id);
      if (running) {
        running.status = String(reply.code ?? reply.signal);
        running.done();
      }
    }
    const answer = this.waiting.get(reply.id);
    if (answer && reply.t !== 'exit') {
      this.waiting.delete(reply.id);
      this.unrefWhenIdle();
      answer(reply);
    }
  }

  private die(why: string): void {
    if (this.dead) return;
    this.dead = true;
    log('spawn helper %s; starting processes directly', why);
    for (const [id, answer] of this.waiting) answer({ t: 'error', id, message: `the spawn helper ${why}`, code: HELPER_GONE });
    this.waiting.clear();
    // What it started is no longer reported by it: watch those processes through /proc instead.
    for (const running of this.running.values()) {
      const watch = setInterval(() => {
        if (!hasExited(running.pid)) return;
        clearInterval(watch);
        running.status ??= 'exited';
        running.done();
      }, 50);
      watch.unref(); // like a direct child's exit watch, it does not keep this process alive
    }
    this.running.clear();
  }

  private ref(): void {
    this.child.ref();
    (this.child.channel as { ref?: () => void } | null | undefined)?.ref?.();
  }
  private unref(): void {
    this.child.unref();
    (this.child.channel as { unref?: () => void } | null | undefined)?.unref?.();
  }
  private unrefWhenIdle(): void {
    if (this.waiting.size === 0) this.unref();
  }
}

