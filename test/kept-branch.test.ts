import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, freshCacheDir, postgresProcessesUnder } from './support/processes.js';
import { expectNothingLeft, runRunner } from './support/runner.js';

const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'kept-branch');
const reportFile = path.join(os.tmpdir(), 'pgbranch-test', 'kept-branch-report.json');

interface Listed {
  name: string;
  state: string;
  port: number;
  labels: Record<string, string>;
  expiresAt?: string;
}

describe('keepOnFailure: a failed file’s branch becomes a named branch (real vitest CLI, then the pgbranch CLI)', () => {
  beforeAll(() => freshCacheDir(cacheDir));
  afterAll(() => freshCacheDir(cacheDir));

  it('is listed by a new process, keeps the rows the test wrote, survives gc and is removed by rm', async () => {
    const { code, output } = await runRunner('vitest-app', 'vitest', [], { PGBRANCH_CACHE_DIR: cacheDir, EXAMPLE_FAIL: '1' }, reportFile);
    expect(code, output).not.toBe(0);
    expect(output).not.toContain(readFileSync(path.join(cacheDir, 'secret'), 'utf8').trim());
    const line = /pgbranch: kept branch (failed-failing-[0-9a-f]{6}) \(.*failing\.test\.ts\): postgresql:\/\/postgres@127\.0\.0\.1:(\d+)\/postgres .*/.exec(output);
    expect(line, output).not.toBeNull();
    const [printed, name, port] = line!;
    expect(printed).toContain(`pgbranch url ${name} --cache-dir ${cacheDir}`);
    expect(printed).toContain(`pgbranch rm ${name} --cache-dir ${cacheDir}`);

    // Any pgbranch command reaps the run's dead session; the kept branch is not part of it.
    const listed = JSON.parse(cli(['ls', '--json', '--cache-dir', cacheDir])) as Listed[];
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ name, state: expect.stringMatching(/running|idle/), port: Number(port), labels: { kept: 'vitest', file: 'test/failing.test.ts' } });
    const ttlHours = (Date.parse(listed[0]!.expiresAt!) - Date.now()) / 3_600_000;
    expect(ttlHours).toBeGreaterThan(23);
    expect(ttlHours).toBeLessThanOrEqual(24);
    expect(readdirSync(path.join(cacheDir, 'branches'))).toEqual([]);

    const url = cli(['url', name!, '--cache-dir', cacheDir]).trim();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query('select name from documents where workspace_id = 4242');
    await client.end();
    expect(rows).toEqual([{ name: 'kept-row' }]);

    const gc = cli(['gc', '--cache-dir', cacheDir]);
    expect(gc).not.toContain(name);
    expect(postgresProcessesUnder(cacheDir)).toHaveLength(1);
    expect((JSON.parse(cli(['ls', '--json', '--cache-dir', cacheDir])) as Listed[]).map((b) => b.name)).toEqual([name]);

    expect(cli(['rm', name!, '--cache-dir', cacheDir])).toContain(`removed ${name}`);
    expect(JSON.parse(cli(['ls', '--json', '--cache-dir', cacheDir]))).toEqual([]);
    expect(existsSync(path.join(cacheDir, 'named', name!))).toBe(false);
    expectNothingLeft(cacheDir);
  });
});
