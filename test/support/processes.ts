import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Postgres server processes whose command line mentions `dir`. */
export function postgresProcessesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') continue;
      if (cmd[0]?.endsWith('postgres') && cmd.some((a) => a === dir || a.startsWith(dir.endsWith('/') ? dir : dir + '/'))) pids.push(Number(name));
    } catch {
      // Exited while we looked.
    }
  }
  return pids;
}

/** Mount points at or below `dir`. */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(dir + '/'));
}

/** Real uid of a process. */
export function uidOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('Uid:'))!;
  return Number(line.split(/\s+/)[1]);
}

/** Runs a script from test/support/scripts in a child Node process and collects its JSON lines. */
export function runScript(script: string, args: string[], options: { untilLine?: (line: Record<string, unknown>) => boolean; env?: NodeJS.ProcessEnv } = {}) {
  const child = spawn(process.execPath, [path.join(repoRoot, 'test/support/scripts', script), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PGBRANCH_QUIET: '1', ...options.env },
  });
  const lines: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const matched = new Promise<Record<string, unknown>>((resolve, reject) => {
    let buffer = '';
    child.stdout.on('data', (d) => {
      buffer += d;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>;
        buffer = buffer.slice(nl + 1);
        lines.push(line);
        if (options.untilLine?.(line)) resolve(line);
      }
    });
    child.once('exit', (code, signal) => {
      if (code === 0 && !options.untilLine) resolve(lines.at(-1) ?? {});
      else reject(new Error(`${script} exited ${code ?? signal}: ${stderr}`));
    });
  });
  return { child, lines, done: matched };
}

/** The `pgbranch` CLI, as a user would run it. */
export function cli(args: string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(process.execPath, [path.join(repoRoot, 'packages/core/dist/cli/main.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
}

/**
 * Empties a test cache directory, first reaping what an earlier, interrupted run may have left running or mounted,
 * and every snapshot it kept: also the Docker images of a directory an earlier run removed (they are found by
 * their cache-directory label), which would otherwise pile up run after run.
 */
export async function freshCacheDir(dir: string): Promise<void> {
  if (existsSync(path.join(dir, 'named'))) {
    for (const b of JSON.parse(cli(['ls', '--json', '--cache-dir', dir])) as Array<{ name: string }>) cli(['rm', b.name, '--cache-dir', dir]);
  }
  // Age 0: also the images of an earlier cache directory at this path (another identity), not only its own.
  cli(['gc', '--cache-dir', dir, '--keep', '0', '--max-age-days', '0']);
  await rm(dir, { recursive: true, force: true });
}
