import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containersOf, dockerUnavailable, TEST_IMAGE } from './support/docker.js';
import { freshCacheDir, postgresProcessesUnder } from './support/processes.js';
import { requireAll } from './support/targets.js';
import { expectKeptAsNamed, expectNothingLeft as expectNothingLeftIn, keptBranchIn, runRunner, runRunnerOutput, summaryPattern } from './support/runner.js';

const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'runner-vitest');
const reportFile = path.join(os.tmpdir(), 'pgbranch-test', 'runner-vitest-report.json');
const SUMMARY = summaryPattern('sync-store');

const run = (args: string[], env: NodeJS.ProcessEnv = {}) => runRunner('vitest-app', 'vitest', args, { PGBRANCH_CACHE_DIR: cacheDir, ...env }, reportFile);

const expectNothingLeft = () => expectNothingLeftIn(cacheDir);

describe('vitest plugin on the example project (real vitest CLI)', () => {
  beforeAll(() => freshCacheDir(cacheDir));
  afterAll(() => freshCacheDir(cacheDir));

  it('gives each of 11 parallel files its own branch (forks, isolate)', async () => {
    const { code, output, report } = await run([]);
    expect(code, output).toBe(0);
    expect(report.numFailedTests).toBe(0);
    expect(report.testResults).toHaveLength(11);
    const summary = SUMMARY.exec(output);
    expect(summary, output).not.toBeNull();
    expect(summary![1]).toBe('11');
    expectNothingLeft();
  });

  it('works with threads and without isolation, reusing the cached snapshot', async () => {
    for (const [i, args] of ( [['--pool=threads'], ['--pool=threads', '--isolate=false'], ['--pool=forks', '--isolate=false']] as string[][]).entries()) {
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
    expect(Number(summary[2])).toBeGreaterThan(Number(summary[1]) * 2);
    expectNothingLeft();
  });

  it('splits files across --shard runs', async () => {
    const one = await run(['--shard=1/2']);
    const two = await run(['--shard=2/2']);
    expect([one.code, two.code]).toEqual([0, 0]);
    expect(one.report.testResults.length + two.report.testResults.length).toBe(11);
    expectNothingLeft();
  });

  it('reclaims the branch of a worker that dies mid-file', async () => {
    const { code, output, report } = await run([], { EXAMPLE_CRASH: '1' });
    expect(code).not.toBe(0);
    expect(output).toMatch(/Worker exited unexpectedly/);
    expect(report.numPassedTests).toBeGreaterThanOrEqual(31);
    expectNothingLeft();
  });

  it('runs the same suite with the docker driver (containers from a snapshot image)', async (ctx) => {
    const unavailable = dockerUnavailable();
    if (unavailable && !requireAll()) ctx.skip();
    expect(unavailable).toBeUndefined();
    const { code, output, report } = await run([], { PGBRANCH_DRIVER: 'docker', PGBRANCH_DOCKER_IMAGE: TEST_IMAGE, PGBRANCH_DOCKER_NETWORK: 'host' });
    expect(code, output).toBe(0);
    expect(report.testResults.every((f) => f.status === 'passed')).toBe(true);
    expect(output).toMatch(/pgbranch: 11 files, 12 branches leased, .* cloner docker-layers/);
    expect(containersOf(cacheDir)).toEqual([]);
    expectNothingLeft();
  });

  it('keeps a failed file’s branch as a named branch that gc leaves and rm removes, printed without the password', async () => {
    const { code, output } = await run([], { EXAMPLE_FAIL: '1' });
    expect(code).not.toBe(0);
    const secret = readFileSync(path.join(cacheDir, 'secret'), 'utf8').trim();
    expect(output).not.toContain(secret);
    const kept = keptBranchIn(output, 'failing.test.ts');
    expect(kept, output).toBeDefined();
    const client = new pg.Client({ host: kept!.socketDir, port: kept!.port, user: 'postgres', database: 'postgres' });
    await client.connect();
    const { rows } = await client.query("select name from documents where workspace_id = 4242");
    await client.end();
    expect(rows).toEqual([{ name: 'kept-row' }]);
    expect(postgresProcessesUnder(cacheDir)).toHaveLength(1);
    expectKeptAsNamed(output, cacheDir);
    expectNothingLeft();
  });

  it('reports a seed failure alone (file, line, statement) and exits non-zero', async () => {
    const { code, output } = await runRunnerOutput('vitest-app', 'vitest', [], { PGBRANCH_CACHE_DIR: cacheDir, EXAMPLE_RECIPE: 'broken' });
    expect(code).toBe(1);
    expect(output).toMatch(/pgbranch: Snapshot "sync-store" failed at \S*broken\/002_orders\.sql:7:39: syntax error at or near "DEFAUL"/);
    expect(output).toContain("NOT NULL DEFAUL 'pending'");
    expect(output).not.toMatch(/No test files found|Unhandled Error/);
    expectNothingLeft();
  });
});
