import { EventEmitter } from 'node:events';

/** admin_shutdown, crash_shutdown, cannot_connect_now, and the sockets of a server going away. */
const TERMINATION_CODES = new Set(['57P01', '57P02', '57P03', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE']);
const TERMINATION_MESSAGE = /^Connection terminated( unexpectedly)?$|terminating connection due to administrator command|the database system is (shutting down|starting up)/;

/** Whether an error is a client connection being ended by its server stopping (node-postgres' errors and codes). */
export function isConnectionTermination(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, message, context } = err as { code?: unknown; message?: unknown; context?: unknown };
  // An 'error' event nobody listens to, whose error comes from another realm (jest's test context), is
  // thrown wrapped: Node's ERR_UNHANDLED_ERROR carries it as `context`.
  if (code === 'ERR_UNHANDLED_ERROR') return isConnectionTermination(context);
  return (typeof code === 'string' && TERMINATION_CODES.has(code)) || (typeof message === 'string' && TERMINATION_MESSAGE.test(message));
}

/** What ended the connections: shown in the notice. */
export type TerminationCause = 'reset' | 'snapshot' | 'teardown';

/** The one line a guard prints for a file, instead of the runner's report of the client's error (and its password). */
export function terminationNotice(file: string, cause: TerminationCause, err: unknown, teardownTimeout?: number): string {
  const unwrapped = (err as { code?: unknown } | undefined)?.code === 'ERR_UNHANDLED_ERROR' ? (err as { context?: unknown }).context : err;
  const { code, message } = (unwrapped ?? {}) as { code?: unknown; message?: unknown };
  const what = `${typeof code === 'string' ? code + ' ' : ''}${typeof message === 'string' ? message : 'connection ended'}`;
  if (cause === 'teardown') {
    const when = teardownTimeout === undefined ? 'when the file ended' : `${teardownTimeout} ms after the file ended`;
    return (
      `pgbranch: ${file}: a client connection was still open ${when}; pgbranch closed it (${what}). ` +
      'End pools and clients in afterAll (await pool.end()), or raise teardownTimeout.'
    );
  }
  return (
    `pgbranch: ${file}: ${cause}() restarts the branch's server, which ended a connection that was open across it (${what}). ` +
    `Close or re-create pools and clients around ${cause}(), or use isolation: 'test'. ` +
    'See "Connections, reset and teardown" in the pgbranch README.'
  );
}

type Emit = typeof EventEmitter.prototype.emit;

interface Window {
  holds: number;
  onTermination: (err: unknown) => void;
  original: Emit;
  patched: Emit;
  onRejection: (reason: unknown, promise: Promise<unknown>) => void;
}

/**
 * While pgbranch stops a branch on purpose (reset, snapshot, the end of a file), the file's open
 * connections are ended, and a client nobody listens to (an idle `pg.Pool` connection, a `pg.Client`
 * without an 'error' listener) emits its error with no listener, which throws: an uncaught exception
 * that fails the run, and that vitest prints with the client object, password included (pg-pool attaches
 * the client to the error as `err.client`). For those moments the guard sees 'error' events that nobody
 * listens to: a connection-termination error goes to the window's `onTermination` instead of being
 * thrown; every other event, and every error someone listens to, goes on exactly as before.
 *
 * It works at the emitter rather than through the process's 'uncaughtException' handlers, which the
 * runners own and swap per file (jest-circus), and where an extra listener changes vitest's behaviour.
 * Queries still running when their connection is ended reject; when nobody handles that (cleanup
 * that was not awaited), the window's 'unhandledRejection' listener takes termination errors, and hands
 * any other reason on as if it were not there.
 */
export class TerminationGuard {
  private window: Window | undefined;

  /** Opens (or extends) a window; the returned function closes it after `graceMs`, once every holder has. */
  hold(onTermination: (err: unknown) => void, graceMs = 250): () => void {
    const window = (this.window ??= this.open());
    window.onTermination = onTermination;
    window.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      setTimeout(() => {
        if (--window.holds === 0) this.close(window);
      }, graceMs).unref();
    };
  }

  private open(): Window {
    const guard = this;
    const original = EventEmitter.prototype.emit;
    const window: Window = {
      holds: 0,
      onTermination: () => undefined,
      original,
      patched: function (this: EventEmitter, event: string | symbol, ...args: unknown[]): boolean {
        if (event === 'error' && guard.window === window && this.listenerCount('error') === 0 && isConnectionTermination(args[0])) {
          window.onTermination(args[0]);
          return false;
        }
        return original.call(this, event, ...args);
      } as Emit,
      onRejection: (reason, promise) => {
        if (guard.window === window && isConnectionTermination(reason)) return window.onTermination(reason);
        passOn(window.onRejection, reason, promise);
      },
    };
    EventEmitter.prototype.emit = window.patched;
    process.on('unhandledRejection', window.onRejection);
    return window;
  }

  private close(window: Window): void {
    if (this.window === window) this.window = undefined;
    process.off('unhandledRejection', window.onRejection);
    // Someone who wrapped emit after us keeps their wrapper; ours then only passes events through.
    if (EventEmitter.prototype.emit === window.patched) EventEmitter.prototype.emit = window.original;
  }
}

/**
 * Gives an unhandled rejection to the process as if `ours` were not listening: to the other listeners,
 * which a runner may have skipped because ours was there (vitest reports only when it is alone), or, when
 * there are none, as Node's default does: thrown as an uncaught exception.
 */
function passOn(ours: (reason: unknown, promise: Promise<unknown>) => void, reason: unknown, promise: Promise<unknown>): void {
  process.off('unhandledRejection', ours);
  try {
    if (!process.emit('unhandledRejection', reason, promise))
      process.nextTick(() => {
        throw reason;
      });
  } finally {
    process.on('unhandledRejection', ours);
  }
}

const GUARD = Symbol.for('pgbranch.termination-guard');

/** The process's one guard (shared by every copy of this module a runner may load). */
export function terminationGuard(): TerminationGuard {
  return ((globalThis as Record<symbol, TerminationGuard | undefined>)[GUARD] ??= new TerminationGuard());
}
