import { randomBytes } from 'node:crypto';
import os from 'node:os';
import pg from 'pg';
import type { Branch } from '../branch/branch.js';
import { describeCause, PgbranchError, UsageError } from '../errors.js';
import { logger } from '../log.js';
import type { Snapshot } from '../branch/branch.js';
import { LatencyRecorder, type LatencySummary } from './latency.js';
import { Lease } from './lease.js';

const log = logger('pool');

export interface PoolOptions {
  /** Branches kept started ahead of demand. @default the number of CPUs, at least 2 and at most 8 */
  warm?: number;
  /** Most servers of this pool alive at once (ready + leased + starting + being destroyed). @default max(16, 2 × warm) */
  max?: number;
  /**
   * Branches started at the same time. A number is a fixed limit. By default, keeping `warm` branches
   * ready starts half as many at once as there are CPUs (at least 1), and while callers wait, up to one
   * per waiting caller (within `max`), so a burst of acquires is not served one branch at a time.
   * @default half the CPUs, at least 1; while callers wait, as many as are waiting
   */
  concurrency?: number;
  /** Connect once to each new branch before handing it out, so the holder's first connection is fast. @default true */
  prewarm?: boolean;
}

export interface ResolvedPoolOptions {
  warm: number;
  max: number;
  /** Branches started at once to keep `warm` ready (and the fixed limit when `followsDemand` is false). */
  concurrency: number;
  /** Whether waiting callers raise the limit to one start per waiter (the default, no `concurrency` given). */
  followsDemand: boolean;
  prewarm: boolean;
}

/** What a pool is doing, in the manner of node-postgres' pool counters. */
export interface PoolStats {
  ready: number;
  leased: number;
  starting: number;
  destroying: number;
  waiting: number;
  /** Branches created since the pool started. */
  created: number;
  /** Branch creations that failed. */
  failed: number;
  /** Time from acquire() to hand-over. */
  acquireMs: LatencySummary;
  /** Time to create one branch (clone + start + prewarm). */
  createMs: LatencySummary;
}

export function resolvePoolOptions(options: PoolOptions = {}): ResolvedPoolOptions {
  const cpus = os.availableParallelism?.() ?? os.cpus().length;
  const warm = options.warm ?? Math.min(8, Math.max(2, cpus));
  const max = options.max ?? Math.max(16, 2 * warm);
  if (!(warm >= 0) || !(max >= 1)) throw new UsageError(`Pool options need warm ≥ 0 and max ≥ 1 (got warm ${warm}, max ${max}).`);
  return {
    warm: Math.min(warm, max),
    max,
    concurrency: Math.max(1, options.concurrency ?? Math.floor(cpus / 2)),
    followsDemand: options.concurrency === undefined,
    prewarm: options.prewarm ?? true,
  };
}

interface Waiter {
  started: number;
  resolve: (lease: Lease) => void;
  reject: (err: Error) => void;
}

/**
 * Keeps `warm` branches of one snapshot started ahead, so acquire() is only a hand-over.
 * Released branches are destroyed and replaced in the background (a fresh clone is as fast as a
 * reset, and cannot carry anything over). Callers are served first come, first served.
 */
export class Pool implements AsyncDisposable {
  readonly options: ResolvedPoolOptions;
  private readonly ready: Branch[] = [];
  private readonly leased = new Map<string, Lease>();
  private readonly waiters: Waiter[] = [];
  private readonly destroying = new Set<Promise<void>>();
  private starting = 0;
  private created = 0;
  private failed = 0;
  /** Creations begun: numbers branch names, which stay distinct when several start at once. */
  private begun = 0;
  private failure: Error | undefined;
  private closed = false;
  private readonly acquireMs = new LatencyRecorder();
  private readonly createMs = new LatencyRecorder();

  constructor(
    readonly snapshot: Snapshot,
    options: PoolOptions = {},
  ) {
    this.options = resolvePoolOptions(options);
    this.refill();
  }

  /** Hands over a running branch; waits (in order) when none is ready. */
  acquire(): Promise<Lease> {
    if (this.closed) return Promise.reject(new UsageError(`The pool of snapshot "${this.snapshot.name}" is closed.`));
    const started = performance.now();
    const branch = this.ready.shift();
    if (branch) {
      const lease = this.lease(branch, started);
      this.refill();
      return Promise.resolve(lease);
    }
    if (this.failure && this.starting === 0) {
      // Report a background failure once instead of letting the caller wait forever; the next call retries.
      const failure = this.failure;
      this.failure = undefined;
      this.refill();
      return Promise.reject(failure);
    }
    return new Promise<Lease>((resolve, reject) => {
      this.waiters.push({ started, resolve, reject });
      this.refill();
    });
  }

  stats(): PoolStats {
    return {
      ready: this.ready.length,
      leased: this.leased.size,
      starting: this.starting,
      destroying: this.destroying.size,
      waiting: this.waiters.length,
      created: this.created,
      failed: this.failed,
      acquireMs: this.acquireMs.summary(),
      createMs: this.createMs.summary(),
    };
  }

  /** Resolves once `warm` branches are ready (or creation failed). */
  async whenWarm(): Promise<void> {
    while (!this.closed && this.ready.length < this.options.warm && (this.starting > 0 || this.destroying.size > 0)) {
      await new Promise((r) => setTimeout(r, 5));
    }
    if (this.failure) throw this.failure;
  }

  /** Rejects waiters and destroys every branch, leased ones included. Safe to call twice. */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w.reject(new UsageError(`The pool of snapshot "${this.snapshot.name}" was closed while waiting.`));
      for (const branch of this.ready.splice(0)) this.destroy(branch);
      for (const lease of this.leased.values()) this.destroy(lease.branch);
      this.leased.clear();
    }
    while (this.starting > 0 || this.destroying.size > 0) {
      await Promise.allSettled([...this.destroying]);
      if (this.starting > 0) await new Promise((r) => setTimeout(r, 5));
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Ends a lease without destroying its branch: the caller owns the branch from now on
   * (used to keep a failed test's branch). The pool starts a replacement.
   */
  detach(lease: Lease): Branch {
    if (!this.leased.delete(lease.id)) throw new UsageError(`Lease ${lease.id} is not held from this pool.`);
    lease.markDetached();
    this.refill();
    return lease.branch;
  }

  private lease(branch: Branch, started: number): Lease {
    const waited = performance.now() - started;
    this.acquireMs.record(waited);
    const lease = new Lease(randomBytes(6).toString('hex'), branch, waited, (l) => this.release(l));
    this.leased.set(lease.id, lease);
    return lease;
  }

  private async release(lease: Lease): Promise<void> {
    if (!this.leased.delete(lease.id)) return; // the pool was closed meanwhile and took it back
    this.destroy(lease.branch);
    this.refill();
  }

  private destroy(branch: Branch): void {
    const done = branch
      .destroy()
      .catch((err) => log('destroying %s failed: %s', branch.name, describeCause(err)))
      .finally(() => {
        this.destroying.delete(done);
        this.refill();
      });
    this.destroying.add(done);
  }

  /** Starts as many branches as demand and `warm` ask for, within `max` and `concurrency`. */
  private refill(): void {
    if (this.closed) return;
    const alive = this.ready.length + this.leased.size + this.starting + this.destroying.size;
    const wanted = this.waiters.length + this.options.warm - this.ready.length - this.starting;
    const count = Math.min(wanted, this.options.max - alive, this.startLimit() - this.starting);
    // After a failure with nobody waiting, stop until someone asks again (no background retry loop).
    if (this.failure && this.waiters.length === 0) return;
    for (let i = 0; i < count; i++) void this.startOne();
  }

  /**
   * How many branches may be starting at once. Waiting callers each get a start of their own (the CPUs
   * are shared, but a waiter served by a queue of one-at-a-time starts waits for all those ahead of it);
   * `max` still bounds the servers alive.
   */
  private startLimit(): number {
    const { concurrency, followsDemand } = this.options;
    return followsDemand ? Math.max(concurrency, this.waiters.length) : concurrency;
  }

  private async startOne(): Promise<void> {
    this.starting++;
    const t0 = performance.now();
    let branch: Branch | undefined;
    try {
      branch = await this.snapshot.branch({ name: `${this.snapshot.name}-${++this.begun}` });
      if (this.options.prewarm) await prewarm(branch);
      this.created++;
      this.createMs.record(performance.now() - t0);
    } catch (err) {
      this.failed++;
      await branch?.destroy().catch(() => undefined);
      branch = undefined;
      this.failure = new PgbranchError(
        'PGBRANCH_POOL_BRANCH_FAILED',
        `The pool of snapshot "${this.snapshot.name}" could not start a branch: ${describeCause(err)}`,
        { cause: err },
      );
      log('%s', this.failure.message);
    } finally {
      this.starting--;
    }
    if (this.closed) {
      if (branch) this.destroy(branch);
      return;
    }
    const waiter = this.waiters.shift();
    if (branch && waiter) waiter.resolve(this.lease(branch, waiter.started));
    else if (branch) this.ready.push(branch);
    else if (waiter) {
      // Delivered to the caller this attempt was for; later callers get their own attempt.
      waiter.reject(this.failure!);
      this.failure = undefined;
    }
    this.refill();
  }
}

/** One connection over the unix socket loads the catalog caches, so the holder's first connection is quick. */
async function prewarm(branch: Branch): Promise<void> {
  const client = new pg.Client(branch.adminConnection());
  // A branch destroyed meanwhile (pool closing) makes the socket fail: the awaited calls reject; no 'error' crash.
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('select 1');
  } finally {
    await client.end();
  }
}
