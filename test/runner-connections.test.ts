import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, freshCacheDir } from './support/processes.js';
import { expectNothingLeft, runRunner } from './support/runner.js';

// Real suites end and reset with connections open: unawaited cleanup in afterAll, a pool never ended,
// a module-level pool across reset(). Each shape is a fixture file included by its EXAMPLE_* variable.
const base = path.join(os.tmpdir(), 'pgbranch-test');
const marker = path.join(base, 'runner-connections-marker');

const runners = [
  { runner: 'vitest', project: 'vitest-app', ext: 'ts', args: (file: string) => [`test/${file}`] },
  { runner: 'jest', project: 'jest-app', ext: 'js', args: (file: string) => ['--no-cache', `test/${file}`] },
] as const;

describe.each(runners)('$runner: connections across teardown and reset (real runner)', ({ runner, project, ext, args }) => {
  const cacheDir = path.join(base, `runner-connections-${runner}`);
  const reportFile = path.join(base, `runner-connections-${runner}-report.json`);
  const run = (file: string, env: NodeJS.ProcessEnv) =>
    runRunner(project, runner, args(`${file}.test.${ext}`), { PGBRANCH_CACHE_DIR: cacheDir, ...env }, reportFile);
  const secret = () => readFileSync(path.join(cacheDir, 'secret'), 'utf8').trim();

  beforeAll(() => freshCacheDir(cacheDir));
  afterAll(async () => {
    await freshCacheDir(cacheDir);
    await rm(marker, { force: true });
  });

  it('lets unawaited cleanup in afterAll finish before the branch goes away', async () => {
    await rm(marker, { force: true });
    const { code, output, report } = await run('late-teardown', { EXAMPLE_LATE_TEARDOWN: '1', EXAMPLE_MARKER_FILE: marker });
    expect(code, output).toBe(0);
    expect(report.numPassedTests).toBe(1);
    expect(existsSync(marker) ? readFileSync(marker, 'utf8') : 'no marker', output).toBe('late cleanup done\n');
    expect(output).not.toMatch(/Unhandled|57P0\d|terminated unexpectedly/);
    expectNothingLeft(cacheDir);
  });

  it('ends cleanup still running at teardownTimeout with one line naming the file, and the run passes', async () => {
    await rm(marker, { force: true });
    const { code, output, report } = await run('late-teardown', { EXAMPLE_LATE_TEARDOWN: '1', EXAMPLE_MARKER_FILE: marker, EXAMPLE_TEARDOWN_TIMEOUT: '100' });
    expect(code, output).toBe(0);
    expect(report.numPassedTests).toBe(1);
    expect(existsSync(marker)).toBe(false); // pg_sleep(0.3) outlasts 100 ms: the cleanup was cut short
    expect(output).toMatch(new RegExp(`pgbranch: test/late-teardown\\.test\\.${ext}: a client connection was still open 100 ms after the file ended; pgbranch closed it`));
    expect(output).not.toMatch(/Unhandled|Call retries/);
    expect(output).not.toContain(secret());
    expectNothingLeft(cacheDir);
  });

  it('ends a connection that never closes after teardownTimeout, with one line naming the file', async () => {
    const { code, output, report } = await run('lingering-client', { EXAMPLE_LINGER: '1', EXAMPLE_TEARDOWN_TIMEOUT: '300' });
    expect(code, output).toBe(0);
    expect(report.numPassedTests).toBe(1);
    expect(output).toMatch(new RegExp(`pgbranch: test/lingering-client\\.test\\.${ext}: a client connection was still open 300 ms after the file ended; pgbranch closed it`));
    expect(output).not.toContain(secret());
    expectNothingLeft(cacheDir);
  });

  it('explains a pool left open across reset() in one line, without the password', async () => {
    const { code, output, report } = await run('reset-open-pool', { EXAMPLE_RESET_POOL: '1' });
    expect(code, output).toBe(0);
    expect(report.numPassedTests).toBe(1);
    expect(output).toMatch(new RegExp(`pgbranch: test/reset-open-pool\\.test\\.${ext}: reset\\(\\) restarts the branch's server, which ended a connection that was open across it`));
    expect(output).not.toContain(secret());
    expectNothingLeft(cacheDir);
  });
  it('keeps a failed file\'s branch while its pool is still open: the failure is reported, one line for the pool, no password', async () => {
    const { code, output, report } = await run('failing-open-pool', { EXAMPLE_FAIL_POOL: '1', EXAMPLE_TEARDOWN_TIMEOUT: '200' });
    expect(code, output).not.toBe(0);
    expect(report.numFailedTests, output).toBe(1);
    expect(output).toMatch(new RegExp(`pgbranch: test/failing-open-pool\\.test\\.${ext}: a client connection was still open when the failed file's branch was kept; pgbranch closed it`));
    expect(output).not.toMatch(/Unhandled|Serialized Error|Uncaught/);
    const name = /kept branch (failed-\S+)/.exec(output)?.[1];
    expect(name, output).toBeDefined();
    const named = path.join(cacheDir, 'named');
    const passwords = readdirSync(named).map((b) => readFileSync(path.join(named, b, 'password'), 'utf8').trim());
    for (const password of [secret(), ...passwords]) expect(output).not.toContain(password);
    expect(cli(['ls', '--cache-dir', cacheDir])).toContain(name);
    expect(cli(['rm', name!, '--cache-dir', cacheDir])).toContain(`removed ${name}`);
    expectNothingLeft(cacheDir);
  });
});

describe('whole example suites with a reset-across pool and a lingering pool, in every worker mode', () => {
  const cacheDir = path.join(base, 'runner-connections-modes');
  const reportFile = path.join(base, 'runner-connections-modes-report.json');
  beforeAll(() => freshCacheDir(cacheDir));
  afterAll(() => freshCacheDir(cacheDir));
  // With 300 ms, the unawaited cleanup of late-teardown may or may not finish on a loaded machine: either way, no crash.
  const env = { PGBRANCH_CACHE_DIR: cacheDir, EXAMPLE_RESET_POOL: '1', EXAMPLE_LINGER: '1', EXAMPLE_LATE_TEARDOWN: '1', EXAMPLE_TEARDOWN_TIMEOUT: '300' };

  // Files share a worker here, so one file's teardown runs into the next file's start.
  it.each([
    ['jest', 'jest-app', ['--no-cache', '--runInBand']],
    ['jest', 'jest-app', ['--no-cache', '--workerThreads']],
    ['vitest', 'vitest-app', ['--pool=threads', '--isolate=false']],
    ['vitest', 'vitest-app', ['--pool=forks', '--isolate=false']],
  ] as const)('%s %s %j', async (runner, project, args) => {
    const { code, output, report } = await runRunner(project, runner, [...args], env, reportFile);
    expect(code, output).toBe(0);
    expect(report.numFailedTests).toBe(0);
    expect(output).toMatch(/pgbranch: test\/reset-open-pool\.test\.[jt]s: reset\(\) restarts/);
    expect(output).toMatch(/pgbranch: test\/lingering-client\.test\.[jt]s: a client connection was still open 300 ms/);
    expect(output).not.toMatch(/Unhandled|Serialized Error|Call retries/);
    expect(output).not.toContain(readFileSync(path.join(cacheDir, 'secret'), 'utf8').trim());
    expectNothingLeft(cacheDir);
  });
});

describe('vitest: the env option (real runner)', () => {
  const cacheDir = path.join(base, 'runner-connections-env');
  const reportFile = path.join(base, 'runner-connections-env-report.json');
  beforeAll(() => freshCacheDir(cacheDir));
  afterAll(() => freshCacheDir(cacheDir));

  it.each([
    ['url', 'file'],
    ['all', 'test'],
    ['custom', 'file'],
    ['url', 'test'],
  ])('env: %s, isolation: %s', async (mode, isolation) => {
    const { code, output, report } = await runRunner(
      'vitest-app',
      'vitest',
      ['test/env-option.test.ts'],
      // A PG* variable from the shell must not stand in for the branch with env: 'url'.
      { PGBRANCH_CACHE_DIR: cacheDir, EXAMPLE_ENV: mode, EXAMPLE_ISOLATION: isolation, PGPORT: undefined, PGHOST: undefined },
      reportFile,
    );
    expect(code, output).toBe(0);
    expect(report.numPassedTests).toBe(3);
    expectNothingLeft(cacheDir);
  });
});
