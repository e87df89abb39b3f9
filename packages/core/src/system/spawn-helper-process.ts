import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { hasExited } from './proc.js';
import type { HelperReply, HelperRequest } from './spawn-helper-protocol.js';

/** A process the helper started, until it exits. */
export interface Running {
  pid: number;
  status?: string;
  exited: Promise<void>;
  done: () => void;
}

/** What a request got: the helper's reply (with the started process for a spawn), or why there is none. */
export type Outcome =
  | { reply: HelperReply; running?: Running }
  | {
      /** The helper went away without answering. */
      gone: string;
      /** True when it never answered anything: it never ran a request, so running this one elsewhere is safe. */
      neverServed: boolean;
    };

/** How long a helper that has never answered may take to answer its first request before it is given up. */
const FIRST_ANSWER_MS = 10_000;

/**
 * The spawn helper process (spawn-helper-main.ts), the requests waiting for its answers and the processes it
 * started. Its IPC channel keeps this process alive only while a request waits for an answer.
 */
export class HelperProcess {
  dead = false;
  /** Whether it ever answered: a helper that never did may not have loaded (and ran nothing). */
  served = false;
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly waiting = new Map<number, (outcome: Outcome) => void>();
  private readonly running = new Map<number, Running>();
  private firstAnswer: NodeJS.Timeout | undefined;

  constructor(private readonly onDeath: (why: string, served: boolean) => void) {
    const main = fileURLToPath(new URL('./spawn-helper-main.js', import.meta.url));
    this.child = fork(main, [], { detached: true, stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [], env: helperEnv(), serialization: 'json' });
    this.child.on('message', (reply: HelperReply) => this.receive(reply));
    this.child.once('error', (err) => this.die(err.message));
    this.child.once('exit', (code, signal) => this.die(`exited (${code ?? signal})`));
    this.unref();
  }

  /** Sends a request (its id set here) and resolves with what came of it; never rejects. */
  request(message: DistributiveOmit<HelperRequest, 'id'>): Promise<Outcome> {
    if (this.dead) return Promise.resolve({ gone: 'the spawn helper has exited', neverServed: !this.served });
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.ref();
      if (!this.served) this.firstAnswer ??= setTimeout(() => this.child.kill('SIGKILL'), FIRST_ANSWER_MS);
      this.child.send({ ...message, id } as HelperRequest, (err) => {
        if (err) this.answer(id, { gone: `the spawn helper could not be reached: ${err.message}`, neverServed: !this.served });
      });
    });
  }

  private receive(reply: HelperReply): void {
    this.served = true;
    if (this.firstAnswer) clearTimeout(this.firstAnswer);
    if (reply.t === 'spawned') {
      // Registered before anyone hears of it, and handed over with the answer: an exit reported at once is kept.
      let done = () => undefined as void;
      const exited = new Promise<void>((resolve) => (done = resolve));
      const running: Running = { pid: reply.pid, exited, done };
      this.running.set(reply.id, running);
      this.answer(reply.id, { reply, running });
    } else if (reply.t === 'exit') {
      const running = this.running.get(reply.id);
      this.running.delete(reply.id);
      if (running) {
        running.status = String(reply.code ?? reply.signal);
        running.done();
      }
    } else this.answer(reply.id, { reply });
  }

  private answer(id: number, outcome: Outcome): void {
    const resolve = this.waiting.get(id);
    if (!resolve) return;
    this.waiting.delete(id);
    if (this.waiting.size === 0) this.unref();
    resolve(outcome);
  }

  private die(why: string): void {
    if (this.dead) return;
    this.dead = true;
    if (this.firstAnswer) clearTimeout(this.firstAnswer);
    for (const id of [...this.waiting.keys()]) this.answer(id, { gone: `the spawn helper ${why}`, neverServed: !this.served });
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
    this.onDeath(why, this.served);
  }

  private ref(): void {
    this.child.ref();
    (this.child.channel as { ref?: () => void } | null | undefined)?.ref?.();
  }
  private unref(): void {
    this.child.unref();
    (this.child.channel as { unref?: () => void } | null | undefined)?.unref?.();
  }
}

/** The helper's environment: this one without debugger flags, which would stop it waiting for a debugger. */
function helperEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  if (env.NODE_OPTIONS && /--(inspect|debug)/.test(env.NODE_OPTIONS)) env.NODE_OPTIONS = env.NODE_OPTIONS.split(/\s+/).filter((o) => o && !/^--(inspect|debug)/.test(o)).join(' ');
  return env;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
