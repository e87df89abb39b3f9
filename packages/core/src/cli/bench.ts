import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';

/**
 * `pgbranch bench [--full] [--scenario NAME…] [--list]`: runs the benchmark package of a pgbranch checkout
 * (its fixtures and peers live there), found from the current directory upwards.
 */
export async function runBench(args: string[]): Promise<number> {
  let dir = process.cwd();
  while (!existsSync(path.join(dir, 'bench/run.mjs'))) {
    const up = path.dirname(dir);
    if (up === dir) {
      throw new UsageError('pgbranch bench runs the benchmarks of a pgbranch checkout: clone the repository, `pnpm install`, and run it inside (or `pnpm bench`).');
    }
    dir = up;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(dir, 'bench/run.mjs'), ...args], { cwd: dir, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}
