import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { summarize } from '@pgbranch/core/runner';
import { methodResult } from '../stats.js';
import type { BenchContext, MethodResult, Scenario, ScenarioResult } from '../types.js';
import { removeLabelledContainers } from './peers/support.js';

/** The suite's size: 40 files; 16 in the quick profile (Testcontainers and PGlite cost seconds per file). */
const filesFor = (ctx: BenchContext) => (ctx.full ? 40 : 16);

interface Mode {
  /** BENCH_E2E_MODE of bench/projects/e2e. */
  id: 'none' | 'pgbranch-local' | 'pgbranch-docker' | 'testcontainers' | 'pglite';
  label: string;
  docker?: boolean;
  /** Its first run builds a snapshot: timed apart, as "first run". */
  seeds?: boolean;
  note: string;
}

const MODES: Mode[] = [
  { id: 'none', label: 'no database (baseline)', note: 'the same files, their database test skipped: vitest alone' },
  { id: 'pgbranch-local', label: 'pgbranch (local)', seeds: true, note: '@pgbranch/vitest, local driver, cloner auto, pool defaults; a branch per file' },
  {
    id: 'pgbranch-docker',
    label: 'pgbranch (docker)',
    docker: true,
    seeds: true,
    note: '@pgbranch/vitest, docker driver (host network, storage auto), pool defaults; a container branch per file',
  },
  {
    id: 'testcontainers',
    label: 'Testcontainers, a container per file',
    docker: true,
    note: 'each file starts GenericContainer (same image, host network, initdb + postgres with the same settings), runs the migrations, stops it in afterAll',
  },
  { id: 'pglite', label: 'PGlite, an instance per file', note: 'each file makes new PGlite() (in memory, in the worker), runs the migrations, closes it in afterAll' },
];

/**
 * Scenario 9: one generated vitest suite (40 files, 16 in the quick profile) (each file inserts 10 rows into its own database and checks it
 * sees exactly those) run with each way of giving a file a database; wall time of `vitest run`, and per-file
 * overhead against the same suite without a database.
 */
export const endToEnd: Scenario = {
  id: 'end-to-end',
  title: 'End to end: a vitest suite (40 files; quick: 16) with pgbranch, Testcontainers per file, PGlite per file',
  async run(ctx) {
    const files = filesFor(ctx);
    const project = path.join(ctx.root, 'bench/projects/e2e');
    const label = `pgbranch.bench=e2e-${process.pid}`;
    const cacheDir = (mode: Mode) => path.join(ctx.workDir, `e2e-${mode.id}`);
    const results: MethodResult[] = [];
    const notes: string[] = [];
    const modes = MODES.filter((m) => {
      if (m.docker && !ctx.docker.available) notes.push(`${m.label}: not available — ${ctx.docker.reason}`);
      return !m.docker || ctx.docker.available;
    });
    const rounds = ctx.full ? 3 : 1;
    const samples = new Map<Mode, number[]>(modes.map((m) => [m, []]));
    await generateSuite(project, files);
    try {
      for (const mode of modes) {
        await rm(cacheDir(mode), { recursive: true, force: true });
        // An untimed first run: pgbranch's builds its snapshot; the others only warm file caches, which the
        // baseline run already did for vitest itself, so the quick profile skips them (minutes for these two).
        if (!ctx.full && !mode.seeds && mode.id !== 'none') continue;
        ctx.progress(`${mode.label}: first run`);
        const first = await runSuite(ctx, project, mode, cacheDir(mode), label);
        if (mode.seeds) notes.push(`${mode.label}: first run, building the snapshot: ${(first / 1000).toFixed(1)} s (not in the samples)`);
      }
      // Rounds alternate the modes, so drift in machine load spreads over all of them.
      for (let round = 0; round < rounds; round++) {
        for (const mode of modes) {
          ctx.progress(`${mode.label}: run ${round + 1}/${rounds}`);
          samples.get(mode)!.push(await runSuite(ctx, project, mode, cacheDir(mode), label));
        }
      }
    } finally {
      await removeLabelledContainers(label).catch(() => undefined);
      for (const mode of modes.filter((m) => m.seeds)) await dropCache(ctx, mode, cacheDir(mode));
      await rm(path.join(project, 'generated'), { recursive: true, force: true });
    }
    const baseline = summarize(samples.get(MODES[0]!) ?? []).p50;
    const local = summarize(samples.get(MODES[1]!) ?? []).p50;
    for (const [mode, values] of samples) {
      results.push(methodResult(mode.label, values, { note: mode.note }));
      if (mode.id === 'none') continue;
      const p50 = summarize(values).p50;
      notes.push(
        `${mode.label}: median wall ${(p50 / 1000).toFixed(1)} s, per-file overhead ${((p50 - baseline) / files).toFixed(0)} ms ` +
          `(median − baseline, ÷ ${files})${mode.id === 'pgbranch-local' ? '' : `, ${(p50 / local).toFixed(1)}× pgbranch (local)'s wall time`}`,
      );
    }
    notes.unshift(
      `${files} generated files, vitest run with 2 workers; each file opens its database at import, inserts 10 rows and checks it sees ` +
        `exactly those. Schema: the sync-store migrations without the bulk seed (001, 002, 004), so the per-file methods pay only ` +
        `for a small schema; the fixture with data is compared in the peers scenario. ${rounds} timed run(s) per method, alternating` +
        `${ctx.full ? ', after one untimed run each' : '; untimed first runs for the baseline and pgbranch (snapshot build) only'}.`,
    );
    const result: ScenarioResult = {
      id: this.id,
      title: this.title,
      status: results.length > 1 ? 'ok' : 'failed',
      reason: results.length > 1 ? undefined : 'no database method could run',
      results,
      charts: [{ kind: 'distribution', title: `${files}-file vitest suite, wall time`, file: 'end-to-end.svg', yLabel: 'ms', log: true }],
      notes,
    };
    return result;
  },
};

/** Writes the suite: `files` copies of the template, each with its own name. */
async function generateSuite(project: string, files: number): Promise<void> {
  const dir = path.join(project, 'generated');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const template = await readFile(path.join(project, 'template.test.ts'), 'utf8');
  for (let i = 0; i < files; i++) {
    const name = `f${String(i).padStart(2, '0')}`;
    await writeFile(path.join(dir, `${name}.test.ts`), template.replaceAll('template', name));
  }
}

/** Runs `vitest run` in the e2e project; its wall time in ms. Fails with vitest's output when the suite fails. */
function runSuite(ctx: BenchContext, project: string, mode: Mode, cacheDir: string, label: string): Promise<number> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FORCE_COLOR: '0',
    BENCH_E2E_MODE: mode.id,
    BENCH_E2E_CACHE_DIR: cacheDir,
    BENCH_E2E_IMAGE: ctx.docker.image,
    BENCH_E2E_LABEL: label.split('=')[1],
    TESTCONTAINERS_RYUK_DISABLED: 'true', // its reaper image would need a registry
    TESTCONTAINERS_HOST_OVERRIDE: '127.0.0.1', // no bridge network here to find a gateway on
  };
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(path.join(project, 'node_modules/.bin/vitest'), ['run'], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d));
    child.stderr.on('data', (d: Buffer) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      if (code === 0) resolve(ms);
      else reject(new Error(`vitest run (${mode.label}) exited with ${code}:\n${output.slice(-2000)}`));
    });
  });
}

/** Removes a pgbranch mode's cache: its Docker snapshot images through `pgbranch gc --keep 0`, then the directory. */
async function dropCache(ctx: BenchContext, mode: Mode, cacheDir: string): Promise<void> {
  if (mode.docker) {
    const cli = path.join(ctx.root, 'packages/core/dist/cli/main.js');
    await new Promise((resolve) => spawn(process.execPath, [cli, 'gc', '--cache-dir', cacheDir, '--keep', '0'], { stdio: 'ignore' }).on('close', resolve));
  }
  await rm(cacheDir, { recursive: true, force: true });
}
