import { spawn } from 'node:child_process';
import type { RunAs } from '../../system/run-as.js';
import { libraryPathEnv } from './library-links.js';

/** Runs a command as the server user and collects its combined output. */
export function spawnAs(
  runAs: RunAs,
  file: string,
  args: string[],
  bins: { libraryDir?: string },
): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      ...(runAs.dropped ? { uid: runAs.uid, gid: runAs.gid } : {}),
      stdio: ['ignore', 'pipe', 'pipe'],
      env: serverEnv(bins),
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/**
 * A minimal environment for servers: no inherited PG* variables or secrets, a predictable locale, and the
 * library links directory when pgbranch made one for binaries whose install script did not run.
 */
export function serverEnv(bins: { libraryDir?: string }): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { LC_ALL: 'C', LANG: 'C' };
  if (process.env.PATH) env.PATH = process.env.PATH;
  if (process.env.TZ) env.TZ = process.env.TZ;
  if (bins.libraryDir) Object.assign(env, libraryPathEnv(process.platform, bins.libraryDir));
  return env;
}
