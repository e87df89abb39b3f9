import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { machineInfo } from './machine.js';
import { renderMarkdown, type BenchRun } from './report/markdown.js';
import { renderChart } from './report/svg.js';
import { SCENARIOS } from './scenarios/index.js';
import type { BenchContext, ScenarioResult } from './types.js';

export interface BenchOptions {
  /** Adds large snapshots and more iterations. */
  full?: boolean;
  /** Run only these scenarios (ids). */
  scenarios?: string[];
  /** Repository root (fixtures, bench recipes, results). */
  root: string;
  /** Where the run directory goes. @default <root>/bench/results */
  resultsDir?: string;
  image?: string;
}

/** `--scenario` named a scenario that does not exist; the message lists the ones that do. */
export class UnknownScenarioError extends Error {
  readonly code = 'PGBRANCH_BENCH_UNKNOWN_SCENARIO';
  constructor(readonly unknown: string[]) {
    super(`Unknown scenario ${unknown.map((id) => `"${id}"`).join(', ')}. Scenarios (pnpm bench --scenario ID):\n${scenarioList()}`);
    this.name = 'UnknownScenarioError';
  }
}

/** One line per scenario: its id and title. */
export function scenarioList(): string {
  return SCENARIOS.map((s) => `  ${s.id.padEnd(16)} ${s.title}`).join('\n');
}

/** Runs the scenarios one after the other and writes results.json, report.md and the charts; returns the run directory. */
export async function runBench(options: BenchOptions): Promise<{ dir: string; run: BenchRun }> {
  const wanted = options.scenarios?.length ? SCENARIOS.filter((s) => options.scenarios!.includes(s.id)) : SCENARIOS;
  const unknown = (options.scenarios ?? []).filter((id) => !SCENARIOS.some((s) => s.id === id));
  if (unknown.length) throw new UnknownScenarioError(unknown);
  const startedAt = new Date().toISOString();
  const dir = path.join(options.resultsDir ?? path.join(options.root, 'bench/results'), startedAt.replace(/[:.]/g, '-'));
  await mkdir(dir, { recursive: true });
  const workDir = process.env.PGBRANCH_BENCH_DIR ?? path.join(os.tmpdir(), 'pgbranch-bench');
  const ctx: BenchContext = {
    full: Boolean(options.full),
    root: options.root,
    iterations: options.full ? 50 : 10,
    slowIterations: options.full ? 20 : 3,
    workDir,
    reflinkDir: process.env.PGBRANCH_TEST_REFLINK_DIR,
    btrfsDir: process.env.PGBRANCH_TEST_BTRFS_DIR,
    docker: dockerStatus(options.image ?? process.env.PGBRANCH_BENCH_DOCKER_IMAGE ?? 'pgbranch-test/postgres:18'),
    progress: () => undefined,
  };
  const results: ScenarioResult[] = [];
  for (const [i, scenario] of wanted.entries()) {
    const label = `[${i + 1}/${wanted.length}] ${scenario.title}`;
    const tty = Boolean(process.stderr.isTTY);
    ctx.progress = (message) => {
      if (tty) process.stderr.write(`\r\x1b[K${label}: ${message}`);
    };
    process.stderr.write(`${tty ? '\r\x1b[K' : ''}${label}…${tty ? '' : '\n'}`);
    const t0 = performance.now();
    let result: ScenarioResult;
    try {
      result = await scenario.run(ctx);
    } catch (err) {
      result = { id: scenario.id, title: scenario.title, status: 'failed', reason: (err as Error).message, results: [], charts: [] };
    }
    result.durationMs = performance.now() - t0;
    results.push(result);
    process.stderr.write(`${tty ? '\r\x1b[K' : ''}${label}: ${result.status} in ${(result.durationMs / 1000).toFixed(1)} s\n`);
    await writeRun(dir, { startedAt, profile: ctx.full ? 'full' : 'quick', machine: machineInfo(workDir, postgresVersion(results)), scenarios: results });
  }
  const run: BenchRun = { startedAt, profile: ctx.full ? 'full' : 'quick', machine: machineInfo(workDir, postgresVersion(results)), scenarios: results };
  await writeRun(dir, run);
  return { dir, run };
}

/** Written after every scenario, so a long run that is stopped still leaves its finished part. */
async function writeRun(dir: string, run: BenchRun): Promise<void> {
  await writeFile(path.join(dir, 'results.json'), JSON.stringify(run, null, 2));
  await writeFile(path.join(dir, 'report.md'), renderMarkdown(run));
  for (const scenario of run.scenarios) {
    for (const chart of scenario.charts) await writeFile(path.join(dir, chart.file), renderChart(chart, scenario.results));
  }
}

function postgresVersion(results: ScenarioResult[]): string {
  for (const r of results) for (const note of r.notes ?? []) {
    const m = /PostgreSQL (\d+\.\d+)/.exec(note);
    if (m) return m[1]!;
  }
  return 'see scenarios';
}

function dockerStatus(image: string): BenchContext['docker'] {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 10_000 });
  } catch {
    return { available: false, reason: 'no Docker engine answers (scripts/docker-setup.sh starts one)', image };
  }
  try {
    execFileSync('docker', ['image', 'inspect', image], { stdio: 'ignore' });
  } catch {
    return { available: false, reason: `image ${image} is not present (scripts/build-test-image.sh builds the test image)`, image };
  }
  return { available: true, image };
}
