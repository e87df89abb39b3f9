import type Docker from 'dockerode';
import pg from 'pg';
import { describeCause, ServerStartError } from '../../errors.js';

const READY_TIMEOUT_MS = 60_000;

/** Output of a container (stdout and stderr together), demultiplexed. */
export async function containerLogs(container: Docker.Container, tail = 30): Promise<string> {
  const raw = (await container.logs({ stdout: true, stderr: true, tail, follow: false })) as unknown as Buffer;
  return demux(raw).trim();
}

/** Docker's log stream frames each chunk with an 8-byte header when the container has no TTY. */
function demux(buffer: Buffer): string {
  let out = '';
  let i = 0;
  while (i + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(i + 4);
    out += buffer.subarray(i + 8, i + 8 + size).toString('utf8');
    i += 8 + size;
  }
  return out || buffer.toString('utf8');
}

/** Starts a container and waits for it to exit; rejects with its output when the exit code is not 0. */
export async function runToCompletion(container: Docker.Container, what: string): Promise<string> {
  await container.start();
  const result = (await container.wait()) as { StatusCode: number };
  const logs = await containerLogs(container, 200);
  if (result.StatusCode !== 0) throw new ServerStartError(`${what} failed (exit ${result.StatusCode}):\n${logs.split('\n').slice(-15).join('\n')}`, logs);
  return logs;
}

/**
 * Waits until the server in a container answers a query over TCP (it refuses connections with
 * "starting up" until then); fails fast, with the container's output, if the container exits.
 */
export async function waitForServer(container: Docker.Container, connection: pg.ClientConfig, label: string): Promise<void> {
  const exit = watchExit(container);
  try {
    await untilAnswers(container, connection, label, Date.now() + READY_TIMEOUT_MS, () => exit.exited);
  } finally {
    exit.stop();
  }
}

/**
 * A container's exit, seen through a request the engine holds open until the container exits. stop() ends the
 * request: left open, it would keep the process alive (a CLI that started or stopped a branch would never exit).
 */
function watchExit(container: Docker.Container): { readonly exited: boolean; done: Promise<void>; stop(): void } {
  const request = new AbortController();
  let exited = false;
  const done = container.wait({ abortSignal: request.signal }).then(() => void (exited = true), () => undefined);
  return {
    get exited() {
      return exited;
    },
    done,
    stop: () => request.abort(),
  };
}

async function untilAnswers(container: Docker.Container, connection: pg.ClientConfig, label: string, deadline: number, exited: () => boolean): Promise<void> {
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (exited()) break;
    const client = new pg.Client({ ...connection, connectionTimeoutMillis: 2000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('select 1');
      await client.end();
      return;
    } catch (err) {
      lastError = err;
      await client.end().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const logs = await containerLogs(container).catch(() => '');
  throw new ServerStartError(
    `Postgres for ${label} did not start in its container${exited() ? ' (the container exited)' : ''}: ${describeCause(lastError)}. Container output:\n${logs}`,
    logs,
    { cause: lastError },
  );
}

/** Stops a container's server cleanly (SIGINT: fast shutdown with a checkpoint) and waits for it. */
export async function stopCleanly(container: Docker.Container): Promise<void> {
  await container.kill({ signal: 'SIGINT' }).catch(() => undefined);
  const exit = watchExit(container);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([exit.done, new Promise((r) => (timer = setTimeout(r, 30_000)))]);
  } finally {
    clearTimeout(timer); // nor may the timer outlive the stop
    exit.stop();
  }
}
