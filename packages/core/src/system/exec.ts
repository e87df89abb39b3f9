import { execFile } from 'node:child_process';
import { execThroughHelper, NEVER_SERVED } from './spawn-helper.js';

export interface ExecResult {
  stdout: string;
  stderr: string;
}

/** Runs a command without a shell; rejects with its stderr in the message when it exits non-zero. */
export interface ExecOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Run as this user and group (the engine runs as root and the command must not). */
  uid?: number;
  gid?: number;
}

export function exec(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const viaHelper = execThroughHelper(file, args, { ...options, timeoutMs });
  if (!viaHelper) return execDirectly(file, args, { ...options, timeoutMs });
  return viaHelper.then(
    ({ stdout, stderr, failure }) => {
      if (!failure) return { stdout, stderr };
      const detail = (stderr || stdout).trim();
      throw Object.assign(new Error(`${file} ${args.join(' ')} failed: ${detail || failure.message}`), { code: failure.code });
    },
    (err: NodeJS.ErrnoException) => {
      // A helper that never came up ran nothing: run it here. One that died while running it must not run it twice.
      if (err.code === NEVER_SERVED) return execDirectly(file, args, { ...options, timeoutMs });
      throw err;
    },
  );
}

function execDirectly(file: string, args: readonly string[], options: ExecOptions & { timeoutMs: number }): Promise<ExecResult> {
  const { timeoutMs, env, uid, gid } = options;
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 16 << 20, ...(env ? { env } : {}), ...(uid === undefined ? {} : { uid, gid }) }, (err, stdout, stderr) => {
      if (err) {
        const detail = String(stderr || stdout || '').trim();
        const e = new Error(`${file} ${args.join(' ')} failed: ${detail || err.message}`, { cause: err });
        (e as NodeJS.ErrnoException).code = (err as NodeJS.ErrnoException).code;
        reject(e);
        return;
      }
      resolve({ stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
