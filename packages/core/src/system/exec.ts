import { execFile } from 'node:child_process';
import { execThroughHelper } from './spawn-helper.js';

export interface ExecResult {
  stdout: string;
  stderr: string;
}

/** Runs a command without a shell; rejects with its stderr in the message when it exits non-zero. */
export function exec(file: string, args: readonly string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ExecResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const viaHelper = execThroughHelper(file, args, { timeoutMs, env: options.env });
  if (!viaHelper) return execDirectly(file, args, timeoutMs, options.env);
  return viaHelper.then(
    ({ stdout, stderr, failure }) => {
      if (!failure) return { stdout, stderr };
      const detail = (stderr || stdout).trim();
      throw Object.assign(new Error(`${file} ${args.join(' ')} failed: ${detail || failure.message}`), { code: failure.code });
    },
    // The helper went away before answering: run it here.
    () => execDirectly(file, args, timeoutMs, options.env),
  );
}

function execDirectly(file: string, args: readonly string[], timeoutMs: number, env: NodeJS.ProcessEnv | undefined): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 16 << 20, ...(env ? { env } : {}) }, (err, stdout, stderr) => {
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
