import { rm } from 'node:fs/promises';
import net from 'node:net';
import type { Branch } from '../branch/branch.js';
import { createEngine, type Engine, type SnapshotRequest } from '../engine/engine.js';
import { CacheLayout } from '../cache/layout.js';
import { describeCause, PgbranchError, UsageError } from '../errors.js';
import { logger } from '../log.js';
import type { EngineOptions } from '../options.js';
import type { Lease } from '../pool/lease.js';
import type { Pool, PoolOptions, PoolStats } from '../pool/pool.js';
import type { Snapshot, SnapshotOrigin } from '../branch/branch.js';
import { keepAsNamed, type KeptBranch } from '../named/kept-branch.js';

export type { KeptBranch };
import { drainClients, endClients } from './client-drain.js';
import { failedDiffSummary } from './failed-diff.js';
import { createPoolToken } from './pool-token.js';
import { useSpawnHelper } from '../system/spawn-helper.js';
import { listenOnPrivateSocket } from './private-socket.js';
import { readTrustedRequests } from './trusted-requests.js';
import { changesLine, DEFAULT_TEARDOWN_TIMEOUT_MS, NOT_KEPT, type LeaseInfo, type PoolAddress, type PoolRequest, type PoolResponse, type ReleaseResult } from './protocol.js';

const log = logger('server');

export interface PoolServerOptions {
  /** Engine options (cache directory, cloner, Postgres binaries and settings). */
  engine?: EngineOptions;
  /** Recipes by key; each gets a snapshot (seeded or reused now) and a warm pool. */
  recipes: Record<string, SnapshotRequest>;
  pool?: PoolOptions;
  /** Listen on a unix socket (default) or on 127.0.0.1. */
  listen?: 'unix' | 'tcp';
  /**
   * On release, how long to wait for the holder's client connections to close before the branch is
   * destroyed (what is still open then is ended). @default 2000
   */
  teardownTimeout?: number;
}

interface Held {
  lease: Lease;
  key: string;
  connection: Connection;
}

interface Connection {
  socket: net.Socket;
  leases: Set<string>;
}

/**
 * Owns an engine and one warm pool per recipe, and leases branches to workers over a socket.
 * A lease lives as long as the worker's connection; closing the server reclaims everything.
 */
export class PoolServer implements AsyncDisposable {
  readonly kept: KeptBranch[] = [];
  private readonly held = new Map<string, Held>();
  private readonly connections = new Set<Connection>();
  private leasesServed = 0;
  private readonly holders = new Set<string>();
  private closing: Promise<void> | undefined;
  private snapshotCount = 0;
  readonly #token = createPoolToken();

  private constructor(
    readonly engine: Engine,
    private readonly server: net.Server,
    readonly address: PoolAddress,
    private readonly snapshots: Map<string, Snapshot>,
    private readonly pools: Map<string, Pool>,
    private readonly socketPath: string | undefined,
    private readonly teardownTimeout: number,
  ) {
    server.on('connection', (socket) => this.accept(socket));
  }

  /** Seeds (or reuses) every recipe's snapshot, starts the pools and listens. */
  static async start(options: PoolServerOptions): Promise<PoolServer> {
    // A pool server starts processes all run long, often inside a test runner's big main process: through the helper.
    useSpawnHelper();
    const engine = await createEngine(options.engine);
    try {
      const snapshots = new Map<string, Snapshot>();
      const pools = new Map<string, Pool>();
      for (const [key, recipe] of Object.entries(options.recipes)) {
        const snap = await engine.snapshot(recipe);
        snapshots.set(key, snap);
        pools.set(key, engine.pool(snap, options.pool));
      }
      const server = net.createServer();
      let address: PoolAddress;
      let socketPath: string | undefined;
      if (options.listen === 'tcp') {
        await listen(server, { host: '127.0.0.1', port: 0 });
        address = `tcp:127.0.0.1:${(server.address() as net.AddressInfo).port}`;
      } else {
        socketPath = new CacheLayout(engine.info().cacheDir).poolSocket(engine.info().session);
        await listenOnPrivateSocket(server, socketPath);
        address = `unix:${socketPath}`;
      }
      log('pool server listening on %s', address);
      return new PoolServer(engine, server, address, snapshots, pools, socketPath, options.teardownTimeout ?? DEFAULT_TEARDOWN_TIMEOUT_MS);
    } catch (err) {
      await engine.close();
      throw err;
    }
  }

  /**
   * The secret every connection must present first (`PoolClient.connect(address, token)`): a lease
   * carries a superuser password, and the socket is reachable by other local users. Give it only to
   * this run's workers; it is never logged, and is not part of `address`.
   */
  get token(): string {
    return this.#token;
  }

  /** The snapshots served, by key. */
  snapshotInfo(): Array<{ key: string; name: string; hash: string; reused: boolean; origin: SnapshotOrigin; sizeBytes: number }> {
    return [...this.snapshots].map(([key, s]) => ({ key, name: s.name, hash: s.hash, reused: s.reused, origin: s.origin, sizeBytes: s.sizeBytes }));
  }

  /** Leases handed out, distinct holders (test files) that asked, and each pool's counters. */
  stats(): { leasesServed: number; holders: number; pools: Record<string, PoolStats> } {
    return {
      leasesServed: this.leasesServed,
      holders: this.holders.size,
      pools: Object.fromEntries([...this.pools].map(([k, p]) => [k, p.stats()])),
    };
  }

  /** Waits until every pool has its warm branches ready. */
  async whenWarm(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.whenWarm()));
  }

  /** Stops listening, reclaims every lease and stops every branch except kept ones. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        for (const c of this.connections) c.socket.destroy();
      });
      await this.engine.close();
      if (this.socketPath) await rm(this.socketPath, { force: true });
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private accept(socket: net.Socket): void {
    const connection: Connection = { socket, leases: new Set() };
    this.connections.add(connection);
    readTrustedRequests(socket, this.#token, (request) => void this.handle(connection, request));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.connections.delete(connection);
      // The worker is gone (finished, crashed or killed): take its branches back.
      for (const leaseId of connection.leases) void this.releaseLease(leaseId);
    });
  }

  private async handle(connection: Connection, request: PoolRequest): Promise<void> {
    let response: PoolResponse;
    try {
      response = { id: request.id, ok: true, result: await this.dispatch(connection, request) };
    } catch (err) {
      const code = err instanceof PgbranchError ? err.code : 'PGBRANCH_POOL_SERVER_ERROR';
      response = { id: request.id, ok: false, error: { code, message: describeCause(err) } };
    }
    if (!connection.socket.destroyed) connection.socket.write(JSON.stringify(response) + '\n');
  }

  private async dispatch(connection: Connection, request: PoolRequest): Promise<unknown> {
    switch (request.op) {
      case 'hello':
        return null; // already trusted
      case 'acquire':
        if (request.holder) this.holders.add(request.holder);
        return this.acquire(connection, request.key);
      case 'release':
        return this.releaseLease(request.leaseId, { drain: true, diff: request.diff });
      case 'keep':
        return this.keep(request.leaseId, request.reason ?? 'kept', request.diff);
      case 'reset':
        await this.heldLease(request.leaseId).lease.branch.reset();
        return null;
      case 'snapshot':
        return this.snapshotLease(request.leaseId, request.name);
      case 'stats':
        return this.stats().pools;
      default:
        throw new UsageError(`Unknown pool server operation "${(request as { op: string }).op}".`);
    }
  }

  private async acquire(connection: Connection, key: string): Promise<LeaseInfo> {
    const pool = this.pools.get(key);
    if (!pool) throw new UsageError(`No snapshot "${key}" on this pool server (known: ${[...this.pools.keys()].join(', ')}).`);
    const lease = await pool.acquire();
    if (connection.socket.destroyed) {
      // The worker left while waiting: the branch goes straight back.
      await lease.release();
      throw new UsageError('The connection closed while waiting for a branch.');
    }
    this.held.set(lease.id, { lease, key, connection });
    connection.leases.add(lease.id);
    this.leasesServed++;
    const c = lease.branch.connectionOptions();
    return { leaseId: lease.id, key, branch: lease.branch.name, url: lease.url, ...c, socketDir: lease.branch.socketDir, waitedMs: lease.waitedMs };
  }

  /**
   * Ends a lease. A worker that releases on purpose may still have queries in flight (unawaited
   * cleanup): with `drain`, the branch is destroyed once its clients are gone or `teardownTimeout`
   * passed. A worker whose connection dropped is gone, and its connections with it: no wait. With `diff`
   * (a failed file), what the branch changed is read once its clients are gone, before it is stopped.
   */
  private async releaseLease(leaseId: string, { drain = false, diff = false } = {}): Promise<ReleaseResult> {
    const held = this.held.get(leaseId);
    if (!held) return { lingering: 0, waitedMs: 0 }; // late or repeated release: harmless
    this.held.delete(leaseId);
    held.connection.leases.delete(leaseId);
    const t0 = performance.now();
    const lingering = drain ? await drainClients(held.lease.branch, this.teardownTimeout) : 0;
    const waitedMs = performance.now() - t0;
    const changes = diff ? await failedDiffSummary(held.lease.branch) : undefined;
    log('%s released: waited %d ms for its clients, %d still open', held.lease.branch.name, Math.round(waitedMs), lingering);
    // Stop the server before answering, so the worker hears of the connections it ends while it still
    // expects to (its guard is up until a moment after the answer).
    if (lingering > 0) {
      await endClients(held.lease.branch);
      await held.lease.branch.destroy().catch((err) => log('destroy %s: %s', held.lease.branch.name, describeCause(err)));
    }
    if (!held.lease.isReleased) await held.lease.release().catch((err) => log('release %s: %s', leaseId, describeCause(err)));
    return { lingering, waitedMs, ...(changes === undefined ? {} : { diff: changes }) };
  }

  /**
   * Turns a failed file's branch into a named branch (`failed-<file>-<id>`, labels `kept` and `file`, a 24 h TTL):
   * it then outlives this run and any session reaping, shows in `pgbranch ls`, and `pgbranch rm` removes it.
   */
  private async keep(leaseId: string, reason: string, diff = false): Promise<KeptBranch & { diff?: string }> {
    if (this.heldLease(leaseId).lease.branch.sharesServer) {
      // One database of the engine's shared server: it cannot outlive the run as a server of its own.
      const released = await this.releaseLease(leaseId, { drain: true, diff });
      throw new PgbranchError(
        NOT_KEPT,
        `The branch of ${reason} was not kept: the ${this.engine.info().driver} driver's branches are databases of the run's own server, which stops with the run (use driver 'local' to keep failed branches).` +
          (released.diff === undefined ? '' : `\n${changesLine(reason, released.diff)}`),
      );
    }
    const { lease, key, connection } = this.heldLease(leaseId);
    this.held.delete(leaseId);
    connection.leases.delete(leaseId);
    // Adopting stops the branch's server, which ends every session: as on release, let the file's
    // unawaited cleanup finish first (bounded); the worker's guard is up for the ones still open.
    const lingering = await drainClients(lease.branch, this.teardownTimeout);
    if (lingering > 0) log('%s kept with %d client connection(s) still open after %d ms', lease.branch.name, lingering, this.teardownTimeout);
    const changes = diff ? await failedDiffSummary(lease.branch) : undefined;
    const branch: Branch = this.pools.get(key)!.detach(lease);
    const kept = await keepAsNamed(this.engine.named(), branch, reason, this.engine.info().cacheDir);
    log('kept %s as %s in %d ms', branch.name, kept.branch, Math.round(kept.keptMs ?? 0));
    this.kept.push(kept);
    return changes === undefined ? kept : { ...kept, diff: changes };
  }

  private async snapshotLease(leaseId: string, name?: string): Promise<{ key: string; hash: string }> {
    const { lease, key } = this.heldLease(leaseId);
    const snap = await lease.branch.snapshot({ name });
    const childKey = `${key}/${name ?? 'snapshot'}-${++this.snapshotCount}`;
    this.snapshots.set(childKey, snap);
    this.pools.set(childKey, this.engine.pool(snap, { warm: 0 }));
    return { key: childKey, hash: snap.hash };
  }

  private heldLease(leaseId: string): Held {
    const held = this.held.get(leaseId);
    if (!held) throw new UsageError(`Lease ${leaseId} is not held (released already, or never acquired).`);
    return held;
  }
}

function listen(server: net.Server, options: net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
