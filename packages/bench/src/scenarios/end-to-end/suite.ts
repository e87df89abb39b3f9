import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BenchContext } from '../../types.js';
import type { Mode } from './modes.js';

/** How the suite is run: how many generated files, on how many vitest workers. */
export interface Shape {
  files: number;
  workers: number;
}

/** The longest one vitest run may take (a per-file PGlite run of 40 files takes ~3 minutes here). */
const RUN_TIMEOUT_MS = 15 * 60_000;

export const shapeName = (s: Shape) => `${s.files} files · ${s.workers} workers`;

/** Writes the suite: `files` copies of the template, each with its own name. */
export async function generateSuite(project: string, files: number): Promise<void> {
  const dir = path.join(project, 'generated');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const template = await readFile(path.join(project, 'template.test.ts'), 'utf8');
  for (let i = 0; i < files; i++) {
    const name = `f${String(i).padStart(3, '0')}`;
    await writeFile(path.join(dir, `${name}.test.ts`), template.replaceAll('template', name));
  }
}

/**
 * Runs `vitest run` in the e2e project; its wall time in ms. `only` limits the run to the first files (a warm-up).
 * Fails with the end of vitest's output when the suite fails.
 */
export function runSuite(ctx: BenchContext, project: string, mode: Mode, shape: Shape, label: string, only?: number, shared?: string): Promise<number> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FORCE_COLOR: '0',
    BENCH_E2E_MODE: mode.id,
    BENCH_E2E_WORKERS: String(shape.workers),
    BENCH_E2E_IMAGE: ctx.docker.image,
    BENCH_E2E_LABEL: label.split('=')[1],
    TESTCONTAINERS_RYUK_DISABLED: 'true', // its reaper image would need a registry
    TESTCONTAINERS_HOST_OVERRIDE: '127.0.0.1', // no bridge network here to find a gateway on
  };
  if (shared) env.BENCH_E2E_SHARED = shared;
  else delete env.BENCH_E2E_SHARED;
  if (mode.cacheDir) env.BENCH_E2E_CACHE_DIR = mode.cacheDir;
  else delete env.BENCH_E2E_CACHE_DIR;
  if (mode.cloner) env.BENCH_E2E_CLONER = mode.cloner;
  else delete env.BENCH_E2E_CLONER;
  const filters = only === undefined ? [] : Array.from({ length: only }, (_, i) => `generated/f${String(i).padStart(3, '0')}.test.ts`);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(path.join(project, 'node_modules/.bin/vitest'), ['run', ...filters], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d));
    child.stderr.on('data', (d: Buffer) => (output += d));
    child.on('error', reject);
    // A hung run fails its mode instead of the whole benchmark (its leftovers go with the mode's cache, dropCache).
    const hung = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(hung);
      const ms = performance.now() - t0;
      if (code === 0) resolve(ms);
      else reject(new Error(`vitest run exited with ${code}: ${failureOf(output)}`));
    });
  });
}

/** The lines of vitest's output that say what failed (its error lines), else its last lines; one line for a note. */
export function failureOf(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const errors = lines.filter((l) => /\b(Error|FAIL|failed|ECONN|timed out)\b/i.test(l) && !/^Test Files|^Tests /.test(l));
  return [...new Set(errors.length ? errors : lines.slice(-5))].slice(0, 4).join(' / ').slice(0, 600);
}

/** Removes a mode's cache: what pgbranch made there (servers, Docker images) through `pgbranch gc --keep 0`, then the directory. */
export async function dropCache(ctx: BenchContext, mode: Mode): Promise<void> {
  if (!mode.cacheDir) return;
  const cli = path.join(ctx.root, 'packages/core/dist/cli/main.js');
  await new Promise((resolve) => spawn(process.execPath, [cli, 'gc', '--cache-dir', mode.cacheDir!, '--keep', '0'], { stdio: 'ignore' }).on('close', resolve));
  await rm(mode.cacheDir, { recursive: true, force: true });
}
