import net from 'node:net';
import { PgbranchError, UsageError } from '../errors.js';
import type { PoolStats } from '../pool/pool.js';
import type { KeptBranch } from './pool-server.js';
import { LineDecoder, POOL_AUTH_FAILED, parseAddress, type LeaseInfo, type PoolAddress, type PoolRequest, type PoolResponse, type ReleaseResult } from './protocol.js';

type Pending = { resolve: (value: unknown) => void; reject: (err: Error) => void };
type Body<T> = T extends unknown ? Omit<T, 'id'> : never;

/** A worker's connection to the pool server. Closing it (or dying) gives back every lease it holds. */
export class PoolClient implements AsyncDisposable {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  private constructor(private readonly socket: net.Socket) {
    const decoder = new LineDecoder();
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => decoder.push(chunk, (m) => this.onResponse(m as PoolResponse)));
    socket.on('close', () => this.failAll(new PgbranchError('PGBRANCH_POOL_SERVER_GONE', 'The pgbranch pool server closed the connection (did the test run end or crash?).')));
    socket.on('error', () => undefined); // 'close' follows and reports
  }

  /**
   * Connects to a pool server and presents its token (`PoolServer.token`, handed to workers by the runner's
   * global setup); the server serves nothing before, and refuses a wrong or missing token.
   */
  static async connect(address: PoolAddress, token: string): Promise<PoolClient> {
    const client = await new Promise<PoolClient>((resolve, reject) => {
      const socket = net.connect(parseAddress(address) as net.NetConnectOpts);
      socket.once('connect', () => resolve(new PoolClient(socket)));
      socket.once('error', (err) =>
        reject(new PgbranchError('PGBRANCH_POOL_SERVER_UNREACHABLE', `Cannot reach the pgbranch pool server at ${address}: ${err.message}. Is the runner's global setup running?`, { cause: err })),
      );
    });
    try {
      await client.call({ op: 'hello', token });
    } catch (err) {
      await client.close();
      if (err instanceof PgbranchError && err.code === POOL_AUTH_FAILED) {
        throw new PgbranchError(POOL_AUTH_FAILED, `The pgbranch pool server at ${address} refused the token: ${err.message} Connect with the token of the server's own run.`);
      }
      throw err;
    }
    return client;
  }

  acquire(key: string, holder?: string): Promise<LeaseInfo> {
    return this.call({ op: 'acquire', key, holder }) as Promise<LeaseInfo>;
  }
  /**
   * Gives a lease back. The server waits (at most its `teardownTimeout`) for the branch's client
   * connections to close before destroying it, and reports those it had to end. Late or repeated
   * releases are harmless here (the server ignores unknown leases).
   */
  release(leaseId: string, options: { diff?: boolean } = {}): Promise<ReleaseResult> {
    return this.call({ op: 'release', leaseId, ...options }) as Promise<ReleaseResult>;
  }
  /**
   * Keeps a lease's branch running after the run (for a failed test to inspect); returns how to reach it, and with
   * `diff`, what the holder changed in it (one line).
   */
  keep(leaseId: string, reason?: string, options: { diff?: boolean } = {}): Promise<KeptBranch & { diff?: string }> {
    return this.call({ op: 'keep', leaseId, reason, ...options }) as Promise<KeptBranch & { diff?: string }>;
  }
  reset(leaseId: string): Promise<void> {
    return this.call({ op: 'reset', leaseId }) as Promise<void>;
  }
  /** Snapshots a leased branch; the returned key can be acquired like a recipe's. */
  snapshot(leaseId: string, name?: string): Promise<{ key: string; hash: string }> {
    return this.call({ op: 'snapshot', leaseId, name }) as Promise<{ key: string; hash: string }>;
  }
  stats(): Promise<Record<string, PoolStats>> {
    return this.call({ op: 'stats' }) as Promise<Record<string, PoolStats>>;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private call(body: Body<PoolRequest>): Promise<unknown> {
    if (this.closed) return Promise.reject(new UsageError('This pool client was closed.'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.write(JSON.stringify({ ...body, id }) + '\n');
    });
  }

  private onResponse(response: PoolResponse): void {
    const pending = this.pending.get(response.id);
    if (!pending) return;
    this.pending.delete(response.id);
    if (response.ok) pending.resolve(response.result);
    else pending.reject(new PgbranchError(response.error.code, response.error.message));
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
