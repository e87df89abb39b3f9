import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Cell } from './cells.js';
import { runCommand, type CommandResult } from './install.js';

/** The fields of the runner's JSON report the matrix checks (vitest and jest write the same ones). */
export interface SuiteReport {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  testResults: Array<{ name: string; status: string }>;
}

export interface SuiteRun extends CommandResult {
  /** Undefined when the runner wrote no report (it failed before running any file). */
  report: SuiteReport | undefined;
}

/**
 * Runs the consumer's suite the way its user would: vitest or jest from the project's own
 * node_modules/.bin, or through `yarn <bin>` under Yarn (which PnP needs to resolve anything).
 */
export async function runSuite(dir: string, cell: Cell, yarnJs: string, env: NodeJS.ProcessEnv): Promise<SuiteRun> {
  const reportFile = path.join(dir, 'report.json');
  const bin = cell.template === 'vitest-esm' ? 'vitest' : 'jest';
  const args = bin === 'vitest' ? ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${reportFile}`] : ['--json', `--outputFile=${reportFile}`];
  const [file, argv] = cell.manager.kind === 'yarn' ? [process.execPath, [yarnJs, bin, ...args]] : [path.join(dir, 'node_modules/.bin', bin), args];
  const result = await runCommand(file, argv, { cwd: dir, env });
  const report = existsSync(reportFile) ? (JSON.parse(readFileSync(reportFile, 'utf8')) as SuiteReport) : undefined;
  return { ...result, report };
}

/**
 * The first lines of the first error in a command's output (without stack frames and rulers), so a
 * failing cell says why without the whole log. npm's peer conflicts are reduced to the conflicting peer.
 */
export function firstError(output: string, lines = 6): string {
  // ts-jest colours its diagnostics even under NO_COLOR.
  const all = output.replace(/\x1b\[[0-9;]*m/g, '').split('\n').filter((l) => !/^\s*(❯|at |⎯)/.test(l) && l.trim() !== '');
  const peer = all.findIndex((l) => /Could not resolve dependency:/.test(l));
  if (peer >= 0) return [all.find((l) => /ERESOLVE/.test(l))!, ...all.slice(peer, peer + 2)].join('\n');
  const at = all.findIndex((l) => /\bERR[_!]|Error\b|error\b|ERESOLVE|✗|×|FAIL\b|YN0001|YN0060/.test(l) && !/Unhandled Error/.test(l));
  return (at < 0 ? all.slice(-lines) : all.slice(at, at + lines)).join('\n').trim();
}
