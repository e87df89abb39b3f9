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

/** Where the connections a guard is up for go: the leased branch's port (TCP, and the unix socket's name). */
export interface GuardTarget {
  port: number;
  /** Unix socket directory (local driver). */
  socketDir?: string;
}

/** Codes of a server ending the session (admin_shutdown, crash_shutdown, cannot_connect_now). */
const SHUTDOWN_CODE = /^57P0[1-3]$/;
/** node-postgres' own errors for a connection that ended, exactly (other libraries' messages may contain these words). */
const PG_ENDED_MESSAGES = new Set(['Connection terminated unexpectedly', 'Connection terminated']);

function unwrap(err: unknown): unknown {
  return (err as { code?: unknown } | undefined)?.code === 'ERR_UNHANDLED_ERROR' ? (err as { context?: unknown }).context : err;
}

/**
 * The connection settings of a node-postgres emitter (duck-typed, so any copy of pg counts), or
 * undefined when the emitter is not one: a `Client` (its `connectionParameters`), a pg-pool `Pool`
 * (it emits the error with the idle client that had it), or a client's `Connection` (its `stream`).
 */
function pgConnectionOf(emitter: object, args: unknown[]): { port?: unknown } | undefined {
  const e = emitter as { connectionParameters?: unknown; options?: unknown; _clients?: unknown; stream?: unknown; parsedStatements?: unknown };
  if (typeof e.connectionParameters === 'object' && e.connectionParameters !== null) return e.connectionParameters;
  if (typeof e.options === 'object' && e.options !== null && Array.isArray(e._clients)) {
    const client = args[1] as { connectionParameters?: { port?: unknown } } | undefined;
    return client?.connectionParameters ?? {};
  }
  if (e.stream instanceof EventEmitter && typeof e.parsedStatements === 'object') return {};
  return undefined;
}

/** Whether a connection's port is the target's (unknown ports, or no target, match: the emitter is pg's already). */
function goesTo(port: unknown, target: GuardTarget | undefined): boolean {
  return target === undefined || port === undefined || port === null || Number(port) === target.port;
}

/**
 * Whether an unhandled rejection is a node-postgres query's whose connection was ended: a server
 * error (it has `severity`) with a shutdown code, pg's exact "Connection terminated" messages without
 * another library's errno code, or a connection refused by the target branch itself while it restarts.
 * A bare ECONNRESET or EPIPE says nothing of whose socket it was: not taken.
 */
export function isPgTerminationRejection(reason: unknown, target?: GuardTarget): boolean {
  const err = unwrap(reason);
  if (typeof err !== 'object' || err === null) return false;
  const { code, message, severity, port, address } = err as { code?: unknown; message?: unknown; severity?: unknown; port?: unknown; address?: unknown };
  if (typeof severity === 'string' && typeof code === 'string' && SHUTDOWN_CODE.test(code)) return true;
  if (code === undefined && typeof message === 'string' && PG_ENDED_MESSAGES.has(message)) return true;
  if (code !== 'ECONNREFUSED' || target === undefined) return false;
  return port === target.port || (target.socketDir !== undefined && address === `${target.socketDir}/.s.PGSQL.${target.port}`);
}


/** What ended the connections: shown in the notice. */
export type TerminationCause = 'reset' | 'snapshot' | 'teardown' | 'keep';

/** The one line a guard prints for a file, instead of the runner's report of the client's error (and its password). */
export function terminationNotice(file: string, cause: TerminationCause, err: unknown, teardownTimeout?: number): string {
  const { code, message } = (unwrap(err) ?? {}) as { code?: unknown; message?: unknown };
  const what = `${typeof code === 'string' ? code + ' ' : ''}${typeof message === 'string' ? message : 'connection ended'}`;
  if (cause === 'teardown') {
    const when = teardownTimeout === undefined ? 'when the file ended' : `${teardownTimeout} ms after the file ended`;
    return (
      `pgbranch: ${file}: a client connection was still open ${when}; pgbranch closed it (${what}). ` +
      'End pools and clients in afterAll (await pool.end()), or raise teardownTimeout.'
    );
  }
  if (cause === 'keep')
    return (
      `pgbranch: ${file}: a client connection was still open when the failed file's branch was kept; pgbranch closed it (${what}). ` +
      'End pools and clients in afterAll (await pool.end()).'
    );
  return (
    `pgbranch: ${file}: ${cause}() restarts the branch's server, which ended a connection that was open across it (${what}). ` +
    `Close or re-create pools and clients around ${cause}(), or use isolation: 'test'. ` +
    'See "Connections, reset and teardown" in the pgbranch README.'
  );
}

type Emit = typeof EventEmitter.prototype.emit;

interface Holder {
  onTermination: (err: unknown) => void;
  target?: GuardTarget;
}

interface Window {
  holders: Holder[];
  original: Emit;
  patched: Emit;
  onRejection: (reason: unknown, promise: Promise<unknown>) => void;
}

/** How long a window stays open, and which connections it is for. */
export interface HoldOptions {
  /**
   * How long the window stays open after its holder released it (errors arrive a moment after the server stopped).
   * @default 250
   */
  graceMs?: number;
  /**
   * The leased branch: only errors of connections to it are taken (when their port is known).
   * @default any PostgreSQL connection
   */
  target?: GuardTarget;
}

/**
 * While pgbranch stops a branch on purpose (reset, snapshot, keep, the end of a file), the file's open
 * connections are ended, and a client nobody listens to (an idle `pg.Pool` connection, a `pg.Client`
 * without an 'error' listener) emits its error with no listener, which throws: an uncaught exception
 * that fails the run, and that vitest prints with the client object, password included (pg-pool attaches
 * the client to the error as `err.client`). For those moments the guard sees 'error' events that nobody
 * listens to: a connection-termination error of a node-postgres client, pool or connection (to the
 * holder's branch) goes to the holder's `onTermination` instead of being thrown; every other event,
 * every error of any other emitter (a socket, another database's client) and every error someone
 * listens to, goes on exactly as before.
 *
 * It works at the emitter rather than through the process's 'uncaughtException' handlers, which the
 * runners own and swap per file (jest-circus), and where an extra listener changes vitest's behaviour.
 * Queries still running when their connection is ended reject; when nobody handles that (cleanup
 * that was not awaited), the window's 'unhandledRejection' listener takes node-postgres' termination
 * errors (see `isPgTerminationRejection`), and hands any other reason on as if it were not there.
 */
export class TerminationGuard {
  private window: Window | undefined;

  /**
   * Opens (or extends) a window; the returned function closes it after `graceMs`, once every holder has.
   * An error goes to the latest holder whose target it matches.
   */
  hold(onTermination: (err: unknown) => void, { graceMs = 250, target }: HoldOptions = {}): () => void {
    const window = (this.window ??= this.open());
    const holder: Holder = { onTermination, target };
    window.holders.push(holder);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      setTimeout(() => {
        window.holders.splice(window.holders.indexOf(holder), 1);
        if (window.holders.length === 0) this.close(window);
      }, graceMs).unref();
    };
  }

  private open(): Window {
    const guard = this;
    const original = EventEmitter.prototype.emit;
    const latest = (window: Window, matches: (h: Holder) => boolean) => window.holders.findLast(matches);
    const window: Window = {
      holders: [],
      original,
      patched: function (this: EventEmitter, event: string | symbol, ...args: unknown[]): boolean {
        if (event === 'error' && guard.window === window && this.listenerCount('error') === 0 && isConnectionTermination(args[0])) {
          const connection = pgConnectionOf(this, args);
          const holder = connection && latest(window, (h) => goesTo(connection.port, h.target));
          if (holder) {
            holder.onTermination(args[0]);
            return false;
          }
        }
        return original.call(this, event, ...args);
      } as Emit,
      onRejection: (reason, promise) => {
        const holder = guard.window === window ? latest(window, (h) => isPgTerminationRejection(reason, h.target)) : undefined;
        if (holder) return holder.onTermination(reason);
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
