import { spawn } from 'node:child_process';
import type { Manager } from './cells.js';

export interface CommandResult {
  code: number | null;
  output: string;
  ms: number;
}

/** Runs a command to its end, collecting stdout and stderr together. */
export function runCommand(file: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<CommandResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output, ms: performance.now() - started }));
  });
}

/** Shared between the cells of a run: package managers' caches, and Yarn's own script. */
export interface ManagerCaches {
  npmCache: string;
  pnpmStore: string;
  yarnGlobal: string;
  yarnJs: string;
}

/** The environment a package manager gets in a cell (its caches; yarn never in immutable mode, even under CI=true). */
export function managerEnv(manager: Manager, caches: ManagerCaches): NodeJS.ProcessEnv {
  if (manager.kind !== 'yarn') return {};
  return { YARN_GLOBAL_FOLDER: caches.yarnGlobal, YARN_ENABLE_IMMUTABLE_INSTALLS: 'false', YARN_ENABLE_TELEMETRY: '0', YARN_ENABLE_PROGRESS_BARS: 'false' };
}

/** The install command, as a user types it (pnpm: no frozen lockfile even under CI=true, as there is none yet). */
export function installCommand(manager: Manager, caches: ManagerCaches): [string, string[]] {
  if (manager.kind === 'npm') return ['npm', ['install', '--cache', caches.npmCache, '--no-audit', '--no-fund']];
  if (manager.kind === 'pnpm') return ['pnpm', ['install', '--no-frozen-lockfile', '--store-dir', caches.pnpmStore]];
  return [process.execPath, [caches.yarnJs, 'install']];
}

/**
 * The build scripts pnpm refused to run (ERR_PNPM_IGNORED_BUILDS, its default for unreviewed builds),
 * or undefined when it reported none. The list may be wrapped over several lines.
 */
export function pnpmIgnoredBuilds(output: string): string[] | undefined {
  const m = /Ignored build scripts:([\s\S]*?)(?:\n\s*help:|$)/.exec(output);
  if (!m) return undefined;
  return m[1]!
    .replace(/\n[\s│|]*/g, '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The package names of `name@version` entries. */
export const namesOf = (entries: string[]) => entries.map((e) => e.slice(0, e.lastIndexOf('@')));
