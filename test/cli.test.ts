import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, freshCacheDir, postgresProcessesUnder, repoRoot, runScript } from './support/processes.js';

const RECIPE = path.join(repoRoot, 'fixtures/recipes/relay-store');
const MAIN = path.join(repoRoot, 'packages/core/dist/cli/main.js');
const COMMANDS = ['snapshot', 'create', 'ls', 'url', 'reset', 'suspend', 'resume', 'rm', 'serve', 'gc', 'doctor', 'bench'];

/** Runs the built CLI; exit code and both streams, failing or not. */
function pgbranch(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('pgbranch CLI', () => {
  const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'cli');
  const named = () => JSON.parse(cli(['ls', '--json', '--cache-dir', cacheDir])) as Array<{ name: string; expiresAt?: string; snapshot: { name: string } }>;

  beforeAll(async () => {
    await freshCacheDir(cacheDir);
    cli(['snapshot', 'relay', '--sql', RECIPE, '--cache-dir', cacheDir]);
  });
  afterAll(async () => {
    await freshCacheDir(cacheDir);
    expect(postgresProcessesUnder(cacheDir)).toEqual([]);
  });

  it('prints its version with --version and -v', () => {
    const { version } = JSON.parse(readFileSync(path.join(repoRoot, 'packages/core/package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) expect(pgbranch([flag])).toEqual({ status: 0, stdout: `pgbranch ${version}\n`, stderr: '' });
  });

  it('prints each command’s own help for COMMAND --help and help COMMAND', () => {
    const global = pgbranch(['--help']).stdout;
    expect(global).toMatch(/^pgbranch: copy-on-write PostgreSQL branches/);
    const invocations = [...COMMANDS.map((command) => [command, '--help']), ['create', '-h'], ['help', 'create']];
    for (const args of invocations) {
      const command = args[0] === 'help' ? args[1]! : args[0]!;
      {
        const { status, stdout } = pgbranch(args);
        expect(status, args.join(' ')).toBe(0);
        expect(stdout, args.join(' ')).toMatch(new RegExp(`^Usage: pgbranch ${command}\\b`));
        expect(stdout).not.toBe(global);
      }
    }
    expect(pgbranch(['help', 'nope']).status).toBe(2);
  });

  it('refuses TTLs without a unit, zero, out of range or absurd, with exit 2 and no branch left', () => {
    const cases: Array<[string, RegExp]> = [
      ['5', /--ttl "5" is not a duration \(a number needs a unit: 5s, 5m, 5h or 5d\)/],
      ['0', /--ttl 0: a branch cannot expire at once.*--ttl never/],
      ['0h', /--ttl 0h: a branch cannot expire at once/],
      ['30s', /--ttl 30s is out of range: a TTL is at least 1m and at most 365d/],
      ['400d', /--ttl 400d is out of range/],
      ['99999999999999999999d', /--ttl "99999999999999999999d" is too long a duration/],
      ['soon', /not a duration/],
    ];
    for (const [ttl, message] of cases) {
      const { status, stderr } = pgbranch(['create', 'ttl-bad', '--from', 'relay', '--ttl', ttl, '--cache-dir', cacheDir]);
      expect(status, ttl).toBe(2);
      expect(stderr, ttl).toMatch(message);
      expect(stderr).not.toMatch(/RangeError|\n\s+at /);
    }
    expect(named()).toEqual([]);
    expect(existsSync(path.join(cacheDir, 'named', 'ttl-bad'))).toBe(false);
  });

  it('takes TTLs with units, and --ttl never for no expiry', () => {
    const t0 = Date.now();
    cli(['create', 'ttl-90m', '--from', 'relay', '--ttl', '90m', '--suspended', '--cache-dir', cacheDir]);
    cli(['create', 'ttl-never', '--from', 'relay', '--ttl', 'never', '--suspended', '--cache-dir', cacheDir]);
    const byName = Object.fromEntries(named().map((b) => [b.name, b]));
    const minutes = (Date.parse(byName['ttl-90m']!.expiresAt!) - t0) / 60_000;
    expect(minutes).toBeGreaterThan(89);
    expect(minutes).toBeLessThan(91);
    expect(byName['ttl-never']!.expiresAt).toBeUndefined();
    for (const name of ['ttl-90m', 'ttl-never']) cli(['rm', name, '--cache-dir', cacheDir]);
  });

  it('finds one snapshot by every name it was asked for, and refuses names that are paths', () => {
    const first = JSON.parse(cli(['snapshot', 'relay', '--sql', RECIPE, '--json', '--cache-dir', cacheDir])) as { name: string; hash: string };
    const second = JSON.parse(cli(['snapshot', 'relay2', '--sql', RECIPE, '--json', '--cache-dir', cacheDir])) as { name: string; hash: string; reused: boolean };
    expect(second).toMatchObject({ name: 'relay2', hash: first.hash, reused: true });
    cli(['create', 'from-relay2', '--from', 'relay2', '--suspended', '--cache-dir', cacheDir]);
    expect(named().find((b) => b.name === 'from-relay2')?.snapshot.name).toBe('relay2');
    cli(['rm', 'from-relay2', '--cache-dir', cacheDir]);

    const bad = pgbranch(['snapshot', '../../etc', '--sql', RECIPE, '--cache-dir', cacheDir]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/Snapshot name "\.\.\/\.\.\/etc" is not valid/);
    expect(readdirSync(path.join(cacheDir, 'snapshots'), { recursive: true }).some((f) => String(f).includes('etc'))).toBe(false);
  });

  it('reports freed space only from what gc removed', async () => {
    cli(['gc', '--cache-dir', cacheDir]);
    const idle = cli(['gc', '--cache-dir', cacheDir]);
    expect(idle).toMatch(/stopped 0 servers, removed 0 directories/);
    expect(idle).not.toMatch(/MB/);

    const holder = runScript('hold-branches.mjs', [JSON.stringify({ cacheDir }), '1', RECIPE], { untilLine: (l) => l.ready === true });
    const held = (await holder.done) as { branches: Array<{ dir: string }> };
    holder.child.kill('SIGKILL');
    await new Promise((resolve) => holder.child.once('exit', resolve));
    const cacheBytes = Number(execFileSync('du', ['-sxB1', cacheDir], { encoding: 'utf8' }).split('\t')[0]);
    const report = JSON.parse(cli(['gc', '--json', '--cache-dir', cacheDir])) as { directories: string[]; removedBytes: number };
    expect(report.directories).toContain(held.branches[0]!.dir);
    expect(report.removedBytes).toBeGreaterThan(0);
    expect(report.removedBytes).toBeLessThanOrEqual(cacheBytes);
    expect(postgresProcessesUnder(cacheDir)).toEqual([]);
  });

  it('names an unknown benchmark scenario and lists the scenarios, exit 2, no stack trace', () => {
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'bench/run.mjs'), '--scenario', 'no-such-scenario'], { cwd: repoRoot, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Unknown scenario "no-such-scenario"/);
    expect(r.stderr).toMatch(/branch-creation/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
