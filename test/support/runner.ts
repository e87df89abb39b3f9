import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import { cli, postgresProcessesUnder, repoRoot } from './processes.js';

export interface RunnerResult {
  code: number | null;
  output: string;
  /** The runner's JSON report (vitest and jest share the fields used here). */
  report: { numPassedTests: number; numFailedTests: number; numPassedTestSuites?: number; testResults: Array<{ name: string; status: string }> };
}

/** An environment for a nested runner: without the outer vitest's worker variables. */
function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(__)?VITEST|^JEST_WORKER_ID$/.test(k)) env[k] = v;
  return { ...env, ...extra, FORCE_COLOR: '0', NO_COLOR: '1' };
}

/** Runs a runner's CLI (from the workspace's node_modules/.bin) in an example project: exit code and output. */
export function runRunnerOutput(project: string, bin: 'vitest' | 'jest', args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const cwd = path.join(repoRoot, 'fixtures/projects', project);
  const binPath = path.join(cwd, 'node_modules/.bin', bin);
  return new Promise((resolve, reject) => {
    const child = spawn(binPath, [...(bin === 'vitest' ? ['run'] : []), ...args], { cwd, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

/** Runs a runner's CLI in an example project and reads its JSON report. */
export async function runRunner(project: string, bin: 'vitest' | 'jest', args: string[], env: NodeJS.ProcessEnv, reportFile: string): Promise<RunnerResult> {
  const reportArgs = bin === 'vitest' ? ['--reporter=default', '--reporter=json', `--outputFile.json=${reportFile}`] : ['--json', `--outputFile=${reportFile}`];
  await rm(reportFile, { force: true });
  const { code, output } = await runRunnerOutput(project, bin, [...args, ...reportArgs], env);
  let report: RunnerResult['report'];
  try {
    report = JSON.parse(readFileSync(reportFile, 'utf8'));
  } catch (err) {
    throw new Error(`${bin} ${args.join(' ')} wrote no report (exit ${code}):\n${output}`, { cause: err });
  }
  return { code, output, report };
}

/** The summary line both runner plugins print at the end of a run. Groups: files, leases, built|reused. */
export function summaryPattern(snapshot: string): RegExp {
  return new RegExp(
    `pgbranch: (\\d+) files, (\\d+) branches leased, lease wait median [\\d.]+ ms \\(p95 [\\d.]+ ms\\), snapshot ${snapshot} (built|reused from the cache|pulled from the registry|imported) \\([0-9a-f]{12}\\), cloner \\w+`,
  );
}

/** Nothing of a finished run may survive: no server, no branch directory, no owner record. */
export function expectNothingLeft(cacheDir: string): void {
  expect(postgresProcessesUnder(cacheDir)).toEqual([]);
  const entries = (dir: string) => (existsSync(path.join(cacheDir, dir)) ? readdirSync(path.join(cacheDir, dir)) : []);
  expect(entries('branches')).toEqual([]);
  expect(entries('sessions')).toEqual([]);
}

/** The kept-branch line of a runner's output for a file: port and socket directory to reach it without a password. */
export function keptBranchIn(output: string, file: string): { port: number; socketDir: string } | undefined {
  const m = new RegExp(`kept branch \\S+ \\(.*${file.replace('.', '\\.')}\\): postgresql://postgres@127\\.0\\.0\\.1:(\\d+)/postgres .* psql -h (\\S+) -p \\d+`).exec(output);
  return m ? { port: Number(m[1]), socketDir: m[2]! } : undefined;
}

/** A kept branch is a named branch: `ls` lists it, `gc` leaves it running, `rm` removes it. */
export function expectKeptAsNamed(output: string, cacheDir: string): void {
  const name = /kept branch (failed-\S+)/.exec(output)?.[1];
  expect(name, output).toBeDefined();
  expect(cli(['ls', '--cache-dir', cacheDir])).toContain(name);
  expect(cli(['gc', '--cache-dir', cacheDir])).not.toContain(name);
  expect(postgresProcessesUnder(cacheDir)).toHaveLength(1);
  expect(cli(['rm', name!, '--cache-dir', cacheDir])).toContain(`removed ${name}`);
}
