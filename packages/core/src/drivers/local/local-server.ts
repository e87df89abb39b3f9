import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ServerStartError } from '../../errors.js';
import { logger } from '../../log.js';
import type { RunAs } from '../../system/run-as.js';
import { waitForExit } from '../../system/proc.js';
import { startProcess, type StartedProcess } from '../../system/spawn-helper.js';
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
  constructor(
    private readonly process: StartedProcess,
    readonly port: number,
    readonly socketDir: string,
  ) {}

  get pid(): number {
    return this.process.pid;
  }

  /**
   * Stops the server. 'fast' shuts down cleanly with a checkpoint (used before keeping the data);
   * 'immediate' skips it (used when the data is thrown away).
   */
  async stop(mode: 'fast' | 'immediate'): Promise<void> {
    if (this.process.exitStatus() === undefined) this.process.kill(mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 30_000);
    await this.process.exited;
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
  const logStart = await stat(options.logFile).then((s) => s.size, () => 0);
  const t0 = performance.now();
  let server: LocalServer | undefined;
  try {
    const started = await startProcess(path.join(bins.binDir, 'postgres'), args, {
      ...(options.runAs.dropped ? { uid: options.runAs.uid, gid: options.runAs.gid } : {}),
      logFile: options.logFile,
      detached: true,
      env: serverEnv(bins),
    });
    server = new LocalServer(started, port, options.socketDir);
    await waitUntilReady(started, options.dataDir);
  } catch (err) {
    await server?.stop('immediate').catch(() => undefined);
    const tail = await readLogTail(options.logFile, logStart);
    throw new ServerStartError(
      `Postgres for ${options.label} did not start: ${(err as Error).message}. Server log (${options.logFile}):\n${tail}`,
      tail,
      { cause: err },
    );
  }
  log('%s: ready on port %d in %dms (pid %d)', options.label, port, Math.round(performance.now() - t0), server.pid);
  return server;
}

/** Polls postmaster.pid tightly for the "ready" status the postmaster writes once it accepts connections. */
async function waitUntilReady(started: StartedProcess, dataDir: string): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const status = started.exitStatus();
    if (status !== undefined) throw new Error(`the server exited (${status}) during startup`);
    const lines = await readFile(pidFile, 'utf8').then((s) => s.split('\n'), () => [] as string[]);
    if (lines[0]?.trim() === String(started.pid) && lines[7]?.trim() === 'ready') return;
    if (Date.now() > deadline) throw new Error(`not ready after ${START_TIMEOUT_MS / 1000}s`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function readLogTail(file: string, from: number): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.slice(from).trim().split('\n').slice(-15).join('\n');
}
