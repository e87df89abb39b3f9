type Event = 'uncaughtException' | 'unhandledRejection';
type Listener = (...args: unknown[]) => void;
// process.on/off typed loosely: the two events' listener types differ only in their arguments.
const events = process as unknown as NodeJS.EventEmitter;

const EVENTS: Event[] = ['uncaughtException', 'unhandledRejection'];
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

interface Window {
  held: Map<Event, Listener[]>;
  ours: Map<Event, Listener>;
  holds: number;
  closed: boolean;
  onTermination: (err: unknown) => void;
}

/**
 * While pgbranch stops a branch on purpose (reset, snapshot, the end of a file), the open connections of
 * the file's clients are ended, and a client nobody listens to (an idle `pg.Pool` connection) raises
 * its error as an uncaught exception: the runner would fail the run, and print the client object
 * (with its password) along with it. For those moments the guard stands in front of the runner's
 * handlers: termination errors go to the window's `onTermination`, every other error to the handlers
 * that were there (or, when there were none, is thrown again as it would have been).
 */
export class TerminationGuard {
  private window: Window | undefined;

  /** Opens (or extends) a window; the returned function closes it after `graceMs`, once every holder has. */
  hold(onTermination: (err: unknown) => void, graceMs = 250): () => void {
    // A runner that swapped the handlers meanwhile (jest-circus does at the start of each file) took ours
    // out: that window no longer guards anything, open a new one in front of the current handlers.
    if (this.window && !EVENTS.every((e) => events.listeners(e).includes(this.window!.ours.get(e)!))) this.retire(this.window);
    const window = this.window ?? this.open(onTermination);
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

  private open(onTermination: (err: unknown) => void): Window {
    const window: Window = { held: new Map(), ours: new Map(), holds: 0, closed: false, onTermination };
    for (const event of EVENTS) {
      const held = events.listeners(event) as Listener[];
      for (const l of held) events.off(event, l);
      const ours: Listener = (err, extra) => {
        if (window.closed) return this.stale(window, event, err, extra);
        if (isConnectionTermination(err)) return window.onTermination(err);
        if (held.length === 0) {
          // Nobody handled these before: behave as if we were not here.
          this.close(window);
          process.nextTick(() => {
            throw err;
          });
          return;
        }
        for (const l of held) l.call(process, err, extra);
      };
      window.held.set(event, held);
      window.ours.set(event, ours);
      events.on(event, ours);
    }
    this.window = window;
    return window;
  }

  /** Ends a window: hands the handlers back, unless someone registered others meanwhile (they took charge). */
  private close(window: Window): void {
    this.retire(window);
    for (const event of EVENTS) {
      events.off(event, window.ours.get(event)!);
      if (events.listenerCount(event) === 0) for (const l of window.held.get(event)!) events.on(event, l);
    }
  }

  private retire(window: Window): void {
    window.closed = true;
    if (this.window === window) this.window = undefined;
  }

  /**
   * A closed window's listener that a runner put back (jest-circus restores the handlers it found when a
   * file started, ours among them): it stands for the handlers it held, so it gives them their place
   * back and passes the error on, or lets it crash the process when there were none.
   */
  private stale(window: Window, event: Event, err: unknown, extra: unknown): void {
    events.off(event, window.ours.get(event)!);
    const held = window.held.get(event)!;
    for (const l of held) if (!events.listeners(event).includes(l)) events.on(event, l);
    if (held.length > 0) for (const l of held) l.call(process, err, extra);
    else if (events.listenerCount(event) === 0)
      process.nextTick(() => {
        throw err;
      });
  }
}

const GUARD = Symbol.for('pgbranch.termination-guard');

/** The process's one guard (shared by every copy of this module a runner may load). */
export function terminationGuard(): TerminationGuard {
  return ((globalThis as Record<symbol, TerminationGuard | undefined>)[GUARD] ??= new TerminationGuard());
}
