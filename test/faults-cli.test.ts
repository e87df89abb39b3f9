import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query } from './support/pg.js';
import { freshCacheDir, postgresProcessesUnder, repoRoot } from './support/processes.js';

const MAIN = path.join(repoRoot, 'packages/core/dist/cli/main.js');

/** Runs the built CLI; exit code and both streams, failing or not. */
function pgbranch(args: string[], cwd?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', cwd, env: { ...process.env, PGBRANCH_QUIET: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bad input ends in a clear error (CLI)', () => {
  const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'faults-cli');
  const sqlDir = path.join(os.tmpdir(), 'pgbranch-test', 'faults-cli-sql');
  const recipes = () => readdirSync(path.join(cacheDir, 'snapshots')).filter((n) => !n.startsWith('.'));

  beforeAll(async () => {
    await freshCacheDir(cacheDir);
    await mkdir(sqlDir, { recursive: true });
    // The base cluster, made once, so that each test sees only what it made.
    await writeFile(path.join(sqlDir, 'one.sql'), 'select 1;\n');
    expect(pgbranch(['snapshot', 'one', '--sql', path.join(sqlDir, 'one.sql'), '--cache-dir', cacheDir]).status).toBe(0);
  });
  afterAll(async () => {
    await freshCacheDir(cacheDir);
    expect(postgresProcessesUnder(cacheDir)).toEqual([]);
    await import('node:fs/promises').then((fs) => fs.rm(sqlDir, { recursive: true, force: true }));
  });

  it('refuses a Latin-1 SQL file, naming the file, the byte offset and the line, and caches nothing', async () => {
    const file = path.join(sqlDir, 'latin1.sql');
    await writeFile(file, Buffer.from("create table t (x text);\ninsert into t values ('café');\n", 'latin1'));
    const before = recipes();
    const { status, stderr, stdout } = pgbranch(['snapshot', 'latin', '--sql', file, '--cache-dir', cacheDir]);
    expect(status).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('latin1.sql is not valid UTF-8: byte 0xe9 at offset 51 (line 2)');
    expect(stderr).toMatch(/Nothing was cached/);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(recipes()).toEqual(before);
  });

  it('takes a UTF-8 file with a byte order mark, and stores its accents as written', async () => {
    const file = path.join(sqlDir, 'bom.sql');
    await writeFile(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("create table t (x text);\ninsert into t values ('café');\n", 'utf8')]));
    const created = pgbranch(['create', 'bom', '--sql', file, '--cache-dir', cacheDir]);
    expect(created.stderr).toBe('');
    expect(created.status).toBe(0);
    const url = pgbranch(['url', 'bom', '--cache-dir', cacheDir]).stdout.trim();
    expect(await query(url, 'select x, length(x) as n from t')).toEqual([{ x: 'café', n: 4 }]);
    expect(pgbranch(['rm', 'bom', '--cache-dir', cacheDir]).status).toBe(0);
  });

  it('refuses a binary file among the SQL with a short error, never printing its bytes', async () => {
    const dir = path.join(sqlDir, 'mixed');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, '001_schema.sql'), 'create table ok (x int);\n');
    const binary = Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x1b, 0x5b, 0x32, 0x4a, 0xff, 0xfe, 0x00, 0x9b]);
    await writeFile(path.join(dir, '002_blob.sql'), binary);
    const before = recipes();
    const { status, stderr } = pgbranch(['snapshot', 'mixed', '--sql', dir, '--cache-dir', cacheDir]);
    expect(status).toBe(1);
    expect(stderr).toContain('002_blob.sql is not a text SQL file: contains NUL bytes at offset 7');
    expect(stderr).not.toMatch(/[\x00-\x08\x0e-\x1f\x7f]/); // no control bytes (the ESC [2J would clear a terminal)
    expect(stderr).not.toContain('\ufffd');
    expect(recipes()).toEqual(before);
  });

  it('refuses the URL of a broken branch, naming its state and `pgbranch gc`, exit 1', async () => {
    await mkdir(path.join(cacheDir, 'named', 'half'), { recursive: true }); // what an interrupted create leaves
    const { status, stdout, stderr } = pgbranch(['url', 'half', '--cache-dir', cacheDir]);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/Branch "half" is broken and has no URL: .*`pgbranch gc`/);
    expect(stderr).not.toContain('127.0.0.1:0');
    expect(status).toBe(1);
    expect(pgbranch(['gc', '--cache-dir', cacheDir]).status).toBe(0);
    expect(existsSync(path.join(cacheDir, 'named', 'half'))).toBe(false);
  });

  it('writes errors as JSON on stdout under --json, with the same exit codes', async () => {
    const cases: Array<[string[], number, string, RegExp]> = [
      [['url', 'nope'], 3, 'PGBRANCH_BRANCH_NOT_FOUND', /No branch named "nope"/],
      [['create', 'x'], 2, 'PGBRANCH_USAGE', /Usage: pgbranch create/],
      [['ls', '--no-such-option'], 2, 'PGBRANCH_USAGE', /no-such-option/],
      [['frobnicate'], 2, 'PGBRANCH_USAGE', /unknown command "frobnicate"/],
      [['snapshot', 'latin', '--sql', path.join(sqlDir, 'latin1.sql')], 1, 'PGBRANCH_SEED_FAILED', /not valid UTF-8/],
    ];
    await mkdir(path.join(cacheDir, 'named', 'half'), { recursive: true });
    cases.push([['url', 'half'], 1, 'PGBRANCH_BRANCH_BROKEN', /is broken/]);
    for (const [args, exit, code, message] of cases) {
      const plain = pgbranch([...args, '--cache-dir', cacheDir]);
      const json = pgbranch([...args, '--json', '--cache-dir', cacheDir]);
      expect(plain.status, args.join(' ')).toBe(exit);
      expect(json.status, args.join(' ')).toBe(exit);
      expect(json.stderr, args.join(' ')).toBe('');
      const parsed = JSON.parse(json.stdout) as { error: { code: string; message: string } };
      expect(parsed.error.code, args.join(' ')).toBe(code);
      expect(parsed.error.message, args.join(' ')).toMatch(message);
    }
    pgbranch(['rm', 'half', '--cache-dir', cacheDir]);
  });
});
