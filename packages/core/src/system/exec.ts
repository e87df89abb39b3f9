import { execFile } from 'node:child_process';

export interface ExecResult {
  stdout: string;
  stderr: string;
}

/** Runs a command without a shell; rejects with its stderr in the message when it exits non-zero. */
export function exec(file: string, args: readonly string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: options.timeoutMs ?? 60_000, maxBuffer: 16 << 20, ...(options.env ? { env: options.env } : {}) }, (err, stdout, stderr) => {
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
