import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshCacheDir, postgresProcessesUnder, repoRoot } from './support/processes.js';
import { expectKeptAsNamed, expectNothingLeft as expectNothingLeftIn, keptBranchIn, runRunner, summaryPattern } from './support/runner.js';

const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'runner-jest');
const reportFile = path.join(os.tmpdir(), 'pgbranch-test', 'runner-jest-report.json');
const SUMMARY = summaryPattern('relay-store');
const expectNothingLeft = () => expectNothingLeftIn(cacheDir);

// --no-cache: jest otherwise runs "fast" suites in band after the first run, and the worker modes would not be exercised.
const run = (args: string[], env: NodeJS.ProcessEnv = {}) => runRunner('jest-app', 'jest', ['--no-cache', ...args], { PGBRANCH_CACHE_DIR: cacheDir, ...env }, reportFile);

describe('jest environment on the example project (real jest CLI)', () => {
  beforeAll(() => freshCacheDir(cacheDir));
  afterAll(() => freshCacheDir(cacheDir));

  it('gives each of 10 parallel files its own branch (worker processes)', async () => {
    const { code, output, report } = await run([]);
    expect(code, output).toBe(0);
    expect(report.numFailedTests).toBe(0);
    expect(report.testResults).toHaveLength(10);
    const summary = SUMMARY.exec(output);
    expect(summary, output).not.toBeNull();
    expect(summary![1]).toBe('10');
    expectNothingLeft();
  });

  it('works in band and with worker threads, reusing the cached snapshot', async () => {
    for (const [i, args] of ( [['--runInBand'], ['--workerThreads']] as string[][]).entries()) {
      const { code, output, report } = await run(args);
      expect(code, `${args.join(' ')}\n${output}`).toBe(0);
      expect(report.testResults.every((f) => f.status === 'passed')).toBe(true);
      if (i > 0) expect(SUMMARY.exec(output)?.[3]).toBe('reused from the cache');
      expectNothingLeft();
    }
  });

  it('gives every test its own branch with isolation: test', async () => {
    const { code, output } = await run([], { EXAMPLE_ISOLATION: 'test' });
    expect(code, output).toBe(0);
    const summary = SUMMARY.exec(output)!;
    expect(Number(summary[2])).toBe(30);
    expectNothingLeft();
  });

  it('reclaims the branch of a worker that dies mid-file', async () => {
    const { code, output, report } = await run([], { EXAMPLE_CRASH: '1' });
    expect(code).not.toBe(0);
    expect(output).toMatch(/worker process .* was terminated/i);
    expect(report.numPassedTests).toBe(30);
    expectNothingLeft();
  });

  it('keeps a failed file’s branch as a named branch that gc leaves and rm removes, printed without the password', async () => {
    const { code, output } = await run([], { EXAMPLE_FAIL: '1' });
    expect(code).not.toBe(0);
    expect(output).not.toContain(readFileSync(path.join(cacheDir, 'secret'), 'utf8').trim());
    const kept = keptBranchIn(output, 'failing.test.js');
    expect(kept, output).toBeDefined();
    const client = new pg.Client({ host: kept!.socketDir, port: kept!.port, user: 'postgres', database: 'postgres' });
    await client.connect();
    const { rows } = await client.query("select provider from relay.accounts where name = 'kept-row'");
    await client.end();
    expect(rows).toEqual([{ provider: 'gemini' }]);
    expect(postgresProcessesUnder(cacheDir)).toHaveLength(1);
    expectKeptAsNamed(output, cacheDir);
    expectNothingLeft();
  });
});

describe('jest package types', () => {
  const dist = path.join(repoRoot, 'packages/jest/dist');

  it('import nothing from @jest/* (not dependencies of ours)', () => {
    const declarations = readdirSync(dist).filter((f) => f.endsWith('.d.ts'));
    expect(declarations).toContain('environment.d.ts');
    for (const file of declarations) expect(readFileSync(path.join(dist, file), 'utf8'), file).not.toMatch(/from ['"]@jest\//);
  });

  it('type globalThis.pgbranch for a tsconfig that only lists the package in "types"', () => {
    const tsc = path.join(repoRoot, 'node_modules/.bin/tsc');
    // Throws with tsc's diagnostics when the global is missing or mistyped.
    execFileSync(tsc, ['-p', 'types-check'], { cwd: path.join(repoRoot, 'fixtures/projects/jest-app'), encoding: 'utf8' });
  });
});
