import net from 'node:net';
import { logger } from '../log.js';

const log = logger('front');

/**
 * Holds a suspended branch's port on 127.0.0.1. The first client to connect wakes the branch: the front stops
 * listening (the server needs the port), `wake()` starts the server, and every connection accepted meanwhile is
 * piped to it — the client only sees a slower connect. Later connections go to the server directly. `wake` calls
 * its `serving` argument as soon as the server accepts connections (the pipes are made then, while the rest of
 * the wake goes on); when it never does, the pipes are made once `wake` resolves.
 */
export class WakeFront {
  private server: net.Server | undefined;
  private pending: net.Socket[] = [];
  private waking = false;
  private readonly proxied = new Set<net.Socket>();

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly wake: (serving: () => void) => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  get listening(): boolean {
    return this.server !== undefined;
  }

  /** True from a client's connection until the branch's server runs (or failed to). */
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
      const forwardPending = () => {
        if (this.pending.length) log('%s: serving after %dms, piping %d connection(s)', this.name, Math.round(performance.now() - t0), this.pending.length);
        for (const socket of this.pending.splice(0)) {
          this.forward(socket);
          forwarded++;
        }
      };
      await this.wake(forwardPending);
      forwardPending();
      log('%s: woke in %dms for %d connection(s)', this.name, Math.round(performance.now() - t0), forwarded);
    } catch (err) {
      for (const socket of this.pending.splice(0)) socket.destroy();
      this.onError(err);
    } finally {
      this.waking = false;
    }
  }

  private forward(client: net.Socket): void {
    if (client.destroyed) return;
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
    upstream.once('connect', () => {
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
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
