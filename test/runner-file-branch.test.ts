import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBranch, startRun, type FileBranchOptions, type Run, type RunnerOptions } from '@pgbranch/core/runner';
import { query } from './support/pg.js';
import { cli, freshCacheDir, postgresProcessesUnder, repoRoot } from './support/processes.js';

// The leasing both runner packages share (the vitest setup file and the jest environment are thin
// adapters over it), driven here as a worker would, against a real run's pool server.
const RECIPE = path.join(repoRoot, 'fixtures/recipes/photo-catalog');
const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'runner-file-branch');
const root = path.join(repoRoot, 'fixtures');
const testPath = path.join(root, 'test/users.test.ts');

describe('FileBranch: a test file\'s branch in a runner worker', () => {
  let run: Run;
  const open = (options: RunnerOptions, env: NodeJS.ProcessEnv, extra: Partial<FileBranchOptions> = {}) =>
    FileBranch.open({ address: run.address, token: run.token, testPath, root, settings: { ...run.settings, ...options } as Run['settings'], env, ...extra });

  beforeAll(async () => {
    await freshCacheDir(cacheDir);
    run = await startRun({ cacheDir, sql: [RECIPE], warm: 1, max: 4, summary: false }, { root, name: 'file-branch' });
  });
  afterAll(async () => {
    await run.end();
    // Kept branches outlive the run by design; one a failed assertion left is removed here.
    for (const kept of run.server.kept) if (cli(['ls', '--cache-dir', cacheDir]).includes(kept.branch)) cli(['rm', kept.branch, '--cache-dir', cacheDir]);
    expect(postgresProcessesUnder(cacheDir)).toEqual([]);
    await freshCacheDir(cacheDir);
  });

  it('points the file\'s environment at its branch, and at a fresh one for every test after the first with isolation: test', async () => {
    const env: NodeJS.ProcessEnv = {};
    await using file = await open({ isolation: 'test', env: 'url' }, env);
    expect(file.file).toBe('test/users.test.ts');
    const first = file.lease;
    expect(env).toEqual({ DATABASE_URL: first.url });
    await file.testStarting('creates a user');
    expect(file.lease).toBe(first);
    await query(env.DATABASE_URL!, "update photos set category = 'changed'");
    await file.testStarting('lists users');
    expect(file.lease.leaseId).not.toBe(first.leaseId);
    expect(env).toEqual({ DATABASE_URL: file.lease.url });
    expect(await query(env.DATABASE_URL!, "select count(*)::int as n from photos where category = 'changed'")).toEqual([{ n: 0 }]);
    expect(run.server.stats().pools.default!.leased).toBe(1);
  });

  it('gives its branch back at the end of an `await using` scope', async () => {
    const leasedBefore = run.server.stats().pools.default!.leased;
    {
      await using file = await open({}, {});
      expect(run.server.stats().pools.default!.leased).toBe(leasedBefore + 1);
      expect(file.lease.url).toMatch(/^postgresql:/);
    }
    expect(run.server.stats().pools.default!.leased).toBe(leasedBefore);
  });

  it('keeps the branch of a failed test under that test\'s name, not the next one\'s, with isolation: test', async () => {
    const lines: string[] = [];
    const env: NodeJS.ProcessEnv = {};
    await using file = await open({ isolation: 'test', keepOnFailure: true }, env, { report: (line) => lines.push(line) });
    await file.testStarting('writes a row');
    await query(env.DATABASE_URL!, "update photos set category = 'kept' where id = 1");
    file.testFailed();
    await file.testStarting('reads the row');
    expect(run.server.kept.map((k) => k.reason)).toEqual([`${testPath} > writes a row`]);
    const kept = run.server.kept[0]!;
    expect(lines).toEqual([expect.stringContaining(`kept the branch of ${testPath} > writes a row as the named branch ${kept.branch}`)]);
    // The next test's branch is fresh, and is not kept: it did not fail.
    expect(await query(env.DATABASE_URL!, 'select category from photos where id = 1')).not.toEqual([{ category: 'kept' }]);
    await file.close();
    expect(run.server.kept).toHaveLength(1);
    expect(cli(['rm', kept.branch, '--cache-dir', cacheDir])).toContain(`removed ${kept.branch}`);
  });
});
