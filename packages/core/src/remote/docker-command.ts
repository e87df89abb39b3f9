import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { PassThrough } from 'node:stream';

/** A `docker` CLI command against one engine (its credentials, helpers and settings are the CLI's own). */
export interface DockerCommandOptions {
  /** The engine's address; undefined: DOCKER_HOST, else the default socket. */
  dockerHost: string | undefined;
  /** Stopped when it prints nothing (stdout or stderr) for this long. */
  idleTimeoutMs: number;
  /** Piped to the command's stdin. */
  input?: Readable;
}

/** A running command: its stdout as a stream, and its end (rejects with its stderr when it fails). */
export interface DockerProcess {
  stdout: Readable;
  done: Promise<{ stderr: string }>;
  /** Stops the command and lets it end without anyone reading the rest of its output (`done` then rejects). */
  stop(): void;
}

/** Failure of a docker command: its stderr is kept for classification (see registryFailure). */
export class DockerCommandError extends Error {
  constructor(
    readonly args: string[],
    readonly stderr: string,
    readonly reason: 'exit' | 'idle' | 'spawn',
    options?: { cause?: unknown },
  ) {
    const detail = redact(stderr).trim().split('\n').slice(-3).join(' ').trim();
    super(`docker ${args[0]} ${reason === 'idle' ? 'stopped: no progress' : reason === 'spawn' ? 'could not start' : 'failed'}${detail ? `: ${detail}` : ''}`, options);
  }
}

/** Starts `docker ARGS`; stdout streams (read it, or the command stalls). */
export function dockerProcess(args: string[], options: DockerCommandOptions): DockerProcess {
  const env = options.dockerHost ? { ...process.env, DOCKER_HOST: options.dockerHost } : process.env;
  const child = spawn('docker', args, { env, stdio: [options.input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  const stdout = new PassThrough();
  let stderr = '';
  let idle: NodeJS.Timeout | undefined;
  let stalled = false;
  // Output nobody reads any more would keep the child's pipe, and so its 'close', pending: it is dropped.
  const stop = (): void => {
    child.kill('SIGTERM');
    child.stdout!.unpipe(stdout);
    child.stdout!.resume();
  };
  const touch = (): void => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      stalled = true;
      stop();
    }, options.idleTimeoutMs);
  };
  touch();
  child.stdout!.on('data', touch);
  child.stdout!.pipe(stdout);
  child.stderr!.on('data', (chunk: Buffer) => {
    touch();
    stderr = (stderr + chunk.toString('utf8')).slice(-8192);
  });
  if (options.input) {
    options.input.on('data', touch);
    options.input.pipe(child.stdin!);
    child.stdin!.on('error', () => undefined); // the command's exit says what went wrong
    options.input.on('error', (err) => {
      stop();
      stdout.destroy(err);
    });
  }
  const done = new Promise<{ stderr: string }>((resolve, reject) => {
    child.on('error', (err) => {
      clearTimeout(idle);
      reject(new DockerCommandError(args, String(err.message), 'spawn', { cause: err }));
    });
    child.on('close', (code) => {
      clearTimeout(idle);
      if (code === 0 && !stalled) resolve({ stderr });
      else reject(new DockerCommandError(args, stderr, stalled ? 'idle' : 'exit'));
    });
  });
  done.catch((err: Error) => stdout.destroy(err));
  return { stdout, done, stop };
}

/** Runs `docker ARGS` to its end; resolves with its stdout. */
export async function dockerCommand(args: string[], options: DockerCommandOptions): Promise<string> {
  const run = dockerProcess(args, options);
  const chunks: Buffer[] = [];
  run.stdout.on('data', (c: Buffer) => chunks.push(c));
  run.stdout.on('error', () => undefined);
  await run.done;
  return Buffer.concat(chunks).toString('utf8').trim();
}

/** Registry messages can quote signed URLs (blob downloads) and credentials in URLs: none of it is repeated. */
export function redact(text: string): string {
  return text
    .replace(/(\w+:\/\/)[^/\s@"]*@/g, '$1…@')
    .replace(/(^|[\s"'(])[^\s/@"'(]+:[^\s/@"']*@/g, '$1…@')
    .replace(/(https?:\/\/[^\s"?]+)\?[^\s"]*/g, '$1?…');
}
