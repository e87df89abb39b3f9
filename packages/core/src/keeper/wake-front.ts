import net from 'node:net';
import { logger } from '../log.js';
import { startupDone } from './startup-watch.js';

const log = logger('front');

/** How long the wake's own checks wait at most for the piped clients' start-up (a client may take its time). */
const STARTUP_WAIT_MS = 2000;

/**
 * Holds a suspended branch's port on 127.0.0.1. The first client to connect wakes the branch: the front stops
 * listening (the server needs the port), `wake()` starts the server, and every connection accepted meanwhile is
 * piped to it — the client only sees a slower connect. Later connections go to the server directly. `wake` calls
 * its `serving` argument as soon as the server accepts connections (the pipes are made then, while the rest of
 * the wake goes on; the promise it returns resolves once those clients' start-up is over, or after
 * STARTUP_WAIT_MS); when it never does, the pipes are made once `wake` resolves.
 */
export class WakeFront {
  private server: net.Server | undefined;
  private pending: net.Socket[] = [];
  private waking = false;
  private readonly proxied = new Set<net.Socket>();

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly wake: (serving: () => Promise<void>) => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  get listening(): boolean {
    return this.server !== undefined;
  }

  /** True from a client's connection until the wake is over (the server runs and has been checked, or failed). */
  get wakingUp(): boolean {
    return this.waking;
  }

  /** Starts holding the port; false when something else has it (the branch's server, another process). */
  async listen(): Promise<boolean> {
    if (this.server) return true;
    if (this.waking) return false; // the branch's server is about to take the port
    const server = net.createServer((socket) => this.accept(socket));
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen({ host: '127.0.0.1', port: this.port, exclusive: true }, () => resolve(true));
    });
    if (ok) {
      server.on('error', (err) => this.onError(err));
      this.server = server;
      log('%s: holding port %d', this.name, this.port);
    }
    return ok;
  }

  /** Stops holding the port. Connections accepted for a wake in progress are still forwarded. */
  async close(): Promise<void> {
    await this.stopListening();
    if (!this.waking) for (const socket of this.pending.splice(0)) socket.destroy();
  }

  /** Also cuts connections piped through this front (keeper shutdown). */
  async closeAll(): Promise<void> {
    await this.close();
    for (const socket of this.proxied) socket.destroy();
  }

  private accept(socket: net.Socket): void {
    socket.pause();
    socket.on('error', () => socket.destroy());
    this.pending.push(socket);
    if (!this.waking) void this.wakeAndForward();
  }

  private async wakeAndForward(): Promise<void> {
    this.waking = true;
    const t0 = performance.now();
    try {
      await this.stopListening();
      let forwarded = 0;
      const forwardPending = (): Promise<void> => {
        if (this.pending.length) log('%s: serving after %dms, piping %d connection(s)', this.name, Math.round(performance.now() - t0), this.pending.length);
        const started = this.pending.splice(0).map((socket) => this.forward(socket));
        forwarded += started.length;
        return atMost(Promise.all(started), STARTUP_WAIT_MS);
      };
      await this.wake(forwardPending);
      void forwardPending();
      log('%s: woke in %dms for %d connection(s)', this.name, Math.round(performance.now() - t0), forwarded);
    } catch (err) {
      for (const socket of this.pending.splice(0)) socket.destroy();
      this.onError(err);
    } finally {
      this.waking = false;
    }
  }

  /** Pipes a client to the server; resolves once the connection's start-up is over. */
  private forward(client: net.Socket): Promise<void> {
    if (client.destroyed) return Promise.resolve();
    // No Nagle on either side of the pipe: the protocol's small request/response messages (the password exchange,
    // a query) would otherwise wait for acknowledgements, as the client and the server themselves do not.
    const upstream = net.connect({ host: '127.0.0.1', port: this.port, noDelay: true });
    client.setNoDelay(true);
    this.proxied.add(client);
    const done = () => {
      this.proxied.delete(client);
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', done);
    client.on('close', done);
    upstream.on('close', done);
    return new Promise((started) => {
      upstream.once('close', () => started());
      upstream.once('connect', () => {
        client.pipe(upstream);
        upstream.pipe(client);
        // Watched only once piped: a listener alone would set the socket flowing and lose what came meanwhile.
        void startupDone(upstream).then(started);
        client.resume();
      });
    });
  }

  private async stopListening(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    // close() frees the port at once but calls back only after every accepted connection ended: do not wait for that.
    server.close();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** `promise` settled, or `ms` passed. */
function atMost(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    void promise.finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
