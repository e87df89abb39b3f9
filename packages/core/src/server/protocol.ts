/**
 * The pool server's wire protocol: one JSON object per line over a unix socket (or 127.0.0.1).
 * Every connection starts with `hello` and the server's token (`PoolServer.token`); the server
 * answers nothing else before it, and closes a connection whose first message is anything else.
 * A lease belongs to the connection that acquired it: when the connection closes, the server
 * takes back every lease still held on it. `diff` on a release or keep (a failed file's branch) asks for
 * what the holder changed in the branch, read before the branch is stopped.
 */
export type PoolRequest =
  | { id: number; op: 'hello'; token: string }
  | { id: number; op: 'acquire'; key: string; holder?: string }
  | { id: number; op: 'release'; leaseId: string; diff?: boolean }
  | { id: number; op: 'keep'; leaseId: string; reason?: string; diff?: boolean }
  | { id: number; op: 'reset'; leaseId: string }
  | { id: number; op: 'snapshot'; leaseId: string; name?: string }
  | { id: number; op: 'stats' };

/** The error code of a connection refused for a wrong or missing token. */
export const POOL_AUTH_FAILED = 'PGBRANCH_POOL_AUTH_FAILED';

export type PoolResponse = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: { code: string; message: string } };

/** What a worker gets for a lease: everything to connect, nothing more. */
export interface LeaseInfo {
  leaseId: string;
  key: string;
  branch: string;
  url: string;
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** Unix socket directory (local driver). */
  socketDir?: string;
  waitedMs: number;
}

/**
 * How long a release waits for the holder's client connections to close before the branch is destroyed,
 * unless the server was started with another `teardownTimeout`. Here, not beside the server, so that a
 * worker can know it without loading the engine.
 */
/** The error code of a `keep` the driver cannot honour: the branch was released instead. */
export const NOT_KEPT = 'PGBRANCH_NOT_KEPT';

export const DEFAULT_TEARDOWN_TIMEOUT_MS = 2000;

/** How long a failed file's report waits for its branch's diff (`diffOnFailure`) before saying it is unavailable. */
export const FAILED_DIFF_TIMEOUT_MS = 10_000;

/** The report line of what a failed file (or test, `reason`) changed in its branch: `summary` is one line of a diff. */
export function changesLine(reason: string, summary: string): string {
  return `pgbranch: changes in the branch of ${reason}: ${summary}`;
}

/** What a release reports: connections the holder left open (ended after the teardown timeout). */
export interface ReleaseResult {
  /** Client connections still open when `teardownTimeout` ran out; the branch ended them. */
  lingering: number;
  /** Time spent waiting for the holder's connections to close, in ms. */
  waitedMs: number;
  /** Asked for with `diff`: what the holder changed in the branch, in one line (or why that is unavailable). */
  diff?: string;
}

/** The longest line either side accepts: a request or an answer is a few hundred bytes. */
const MAX_LINE = 64 * 1024;

/** Splits a byte stream into JSON lines; throws on a line longer than {@link MAX_LINE} (the peer is not ours). */
export class LineDecoder {
  private buffer = '';

  push(chunk: string, onMessage: (message: unknown) => void): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      if (nl > MAX_LINE) break;
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      if (line.trim()) onMessage(JSON.parse(line));
    }
    // What is left is one unfinished line, or a finished one that was too long.
    if (this.buffer.length > MAX_LINE) throw new Error(`A pool server message is longer than ${MAX_LINE} characters.`);
  }
}

/** `unix:/path/pool.sock` or `tcp:127.0.0.1:PORT`. */
export type PoolAddress = string;

export function parseAddress(address: PoolAddress): { path: string } | { host: string; port: number } {
  if (address.startsWith('unix:')) return { path: address.slice(5) };
  const m = /^tcp:([\d.]+):(\d+)$/.exec(address);
  if (!m) throw new Error(`Bad pool server address "${address}": expected unix:/path or tcp:127.0.0.1:PORT.`);
  return { host: m[1]!, port: Number(m[2]) };
}
