import { spawn, type ChildProcess } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ServerStartError } from '../../errors.js';
import { logger } from '../../log.js';
import type { RunAs } from '../../system/run-as.js';
import { waitForExit } from '../../system/proc.js';
import type { PostgresBinaries } from './binaries.js';
import { freePort } from './ports.js';
import { serverEnv } from './spawn-as.js';

const log = logger('server');
const START_TIMEOUT_MS = 60_000;
const PORT_ATTEMPTS = 5;

export interface ServerStartOptions {
  dataDir: string;
  /** Directory for the unix socket; 0700, owned by the server user. */
  socketDir: string;
  /** Server log (appended). */
  logFile: string;
  settings: Record<string, string>;
  runAs: RunAs;
  /** Fixed port (e.g. to keep a branch's URL across restarts); a free one is picked otherwise. */
  port?: number;
  /** Name used in errors, e.g. `branch "a"` or `snapshot app (1a2b3c)`. */
  label: string;
}

/** A running local Postgres server. */
export class LocalServer {
  private exited: Promise<void>;

  constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly socketDir: string,
  ) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /**
   * Stops the server. 'fast' shuts down cleanly with a checkpoint (used before keeping the data);
   * 'immediate' skips it (used when the data is thrown away).
   */
  async stop(mode: 'fast' | 'immediate'): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill(mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await this.exited;
    clearTimeout(timer);
    // Children of the postmaster exit right after it; make sure the data directory is free.
    await waitForExit(this.pid, 1000);
  }
}

/** Starts `postgres` directly (no pg_ctl polling) and resolves once it accepts connections. */
export async function startServer(bins: PostgresBinaries, options: ServerStartOptions): Promise<LocalServer> {
  let lastError: ServerStartError | undefined;
  for (let attempt = 0; attempt < (options.port ? 1 : PORT_ATTEMPTS); attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await startOnce(bins, options, port);
    } catch (err) {
      if (!(err instanceof ServerStartError) || !/could not bind|Address already in use/i.test(err.logTail)) throw err;
      log('%s: port %d taken, retrying', options.label, port);
      lastError = err;
    }
  }
  throw lastError!;
}

async function startOnce(bins: PostgresBinaries, options: ServerStartOptions, port: number): Promise<LocalServer> {
  const settings: Record<string, string> = {
    ...options.settings,
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: options.socketDir,
    unix_socket_permissions: '0700',
  };
  const args = ['-D', options.dataDir];
  for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${value}`);
  const logHandle = await open(options.logFile, 'a', 0o600);
  const logStart = (await logHandle.stat()).size;
  const t0 = performance.now();
  let child: ChildProcess;
  try {
    child = spawn(path.join(bins.binDir, 'postgres'), args, {
      ...(options.runAs.dropped ? { uid: options.runAs.uid, gid: options.runAs.gid } : {}),
      stdio: ['ignore', logHandle.fd, logHandle.fd],
      detached: true,
      env: serverEnv(bins),
    });
  } finally {
    await logHandle.close();
  }
  // The engine cleans up its servers itself; an unref'd child does not keep the process alive.
  child.unref();
  const server = new LocalServer(child, port, options.socketDir);
  try {
    await waitUntilReady(child, options.dataDir);
  } catch (err) {
    await server.stop('immediate').catch(() => undefined);
    const tail = await readLogTail(options.logFile, logStart);
    throw new ServerStartError(
      `Postgres for ${options.label} did not start: ${(err as Error).message}. Server log (${options.logFile}):\n${tail}`,
      tail,
      { cause: err },
    );
  }
  log('%s: ready on port %d in %dms (pid %d)', options.label, port, Math.round(performance.now() - t0), child.pid);
  return server;
}

/** Polls postmaster.pid tightly for the "ready" status the postmaster writes once it accepts connections. */
async function waitUntilReady(child: ChildProcess, dataDir: string): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (spawnError) throw spawnError;
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the server exited (${child.exitCode ?? child.signalCode}) during startup`);
    }
    const lines = await readFile(pidFile, 'utf8').then((s) => s.split('\n'), () => [] as string[]);
    if (lines[0]?.trim() === String(child.pid) && lines[7]?.trim() === 'ready') return;
    if (Date.now() > deadline) throw new Error(`not ready after ${START_TIMEOUT_MS / 1000}s`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function readLogTail(file: string, from: number): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.slice(from).trim().split('\n').slice(-15).join('\n');
}
