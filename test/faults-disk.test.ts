import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query } from './support/pg.js';
import { freshCacheDir, mountsUnder, postgresProcessesUnder, repoRoot } from './support/processes.js';
import { requireAll } from './support/targets.js';

const MAIN = path.join(repoRoot, 'packages/core/dist/cli/main.js');
const isRoot = process.getuid?.() === 0 && process.platform === 'linux';
if (!isRoot) {
  if (requireAll()) throw new Error('faults-disk needs root on Linux (a size-limited tmpfs and a read-only bind mount)');
  console.warn('faults-disk: skipped: needs root on Linux to mount a small tmpfs and a read-only bind mount');
}

function pgbranch(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...process.env, PGBRANCH_QUIET: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Fills the filesystem of `dir` with a file, then gives back `leaveBytes` (rounded to pages). */
function fill(file: string, leaveBytes = 0): void {
  spawnSync('dd', ['if=/dev/zero', `of=${file}`, 'bs=1M'], { stdio: 'ignore' });
  spawnSync('dd', ['if=/dev/zero', `of=${file}.tail`, 'bs=4k'], { stdio: 'ignore' });
  if (leaveBytes > 0) execFileSync('truncate', ['-s', `-${leaveBytes}`, file]);
}

function leftovers(cacheDir: string): string[] {
  const sessions = readdirSync(path.join(cacheDir, 'sessions')).map((n) => `sessions/${n}`);
  const locks = existsSync(path.join(cacheDir, 'locks')) ? readdirSync(path.join(cacheDir, 'locks')).map((n) => `locks/${n}`) : [];
  return [...sessions, ...locks];
}

describe.skipIf(!isRoot)('faults: a full disk', () => {
  const mount = path.join(os.tmpdir(), 'pgbranch-test', 'faults-disk');
  const cacheDir = path.join(mount, 'cache');
  const filler = path.join(mount, 'filler');
  const free = async () => rm(filler, { force: true }).then(() => rm(`${filler}.tail`, { force: true }));

  beforeAll(async () => {
    await mkdir(mount, { recursive: true });
    if (mountsUnder(mount).length > 0) execFileSync('umount', [mount]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=96m', 'tmpfs', mount]);
    await writeFile(path.join(mount, 'one.sql'), "create table t (x text); insert into t values ('seeded');\n");
    expect(pgbranch(['snapshot', 'one', '--sql', path.join(mount, 'one.sql'), '--cache-dir', cacheDir]).status).toBe(0);
    expect(pgbranch(['create', 'keep', '--from', 'one', '--cache-dir', cacheDir]).status).toBe(0);
  });
  afterAll(async () => {
    await free();
    await freshCacheDir(cacheDir);
    expect(postgresProcessesUnder(mount)).toEqual([]);
    execFileSync('umount', [mount]);
    expect(mountsUnder(mount)).toEqual([]);
    await rm(mount, { recursive: true, force: true });
  });

  it('never reports a branch running on a nearly full disk unless it answers; else says the disk is full and removes what it made', async () => {
    // How far a start gets depends on the space left: the server may not start, or start and refuse every connection.
    for (const leave of [64 * 1024, 512 * 1024, 2 * 1024 * 1024]) {
      fill(filler, leave);
      try {
        const { status, stdout, stderr } = pgbranch(['create', 'squeezed', '--from', 'one', '--cache-dir', cacheDir]);
        if (status === 0) {
          expect(stdout, `${leave} bytes left`).toMatch(/running/);
          const url = pgbranch(['url', 'squeezed', '--cache-dir', cacheDir]).stdout.trim();
          expect(await query(url, 'select x from t')).toEqual([{ x: 'seeded' }]);
          expect(pgbranch(['rm', 'squeezed', '--cache-dir', cacheDir]).status).toBe(0);
        } else {
          expect(stdout, `${leave} bytes left`).toBe('');
          expect(stderr, `${leave} bytes left`).toMatch(/The disk is full: `pgbranch rm` branches you no longer need and run `pgbranch gc`/);
          expect(stderr).not.toMatch(/\n\s+at /);
          expect(status).toBe(1);
        }
        expect(existsSync(path.join(cacheDir, 'named', 'squeezed'))).toBe(false);
        expect(postgresProcessesUnder(path.join(cacheDir, 'named', 'squeezed'))).toEqual([]);
        expect(leftovers(cacheDir)).toEqual([]);
      } finally {
        await free();
      }
    }
  });

  it('lists, collects and removes branches on a full disk, leaving no temporary files', async () => {
    fill(filler);
    try {
      const listed = pgbranch(['ls', '--json', '--cache-dir', cacheDir]);
      expect(listed.stderr).toBe('');
      expect((JSON.parse(listed.stdout) as Array<{ name: string }>).map((b) => b.name)).toEqual(['keep']);
      const gc = pgbranch(['gc', '--cache-dir', cacheDir]);
      expect(gc.stderr).toBe('');
      expect(gc.stdout).not.toMatch(/ENOSPC/);
      expect(gc.status).toBe(0);
      const refused = pgbranch(['create', 'more', '--from', 'one', '--cache-dir', cacheDir]);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(/The disk is full/);
      expect(refused.stderr).not.toMatch(/\n\s+at /);
      const removed = pgbranch(['rm', 'keep', '--cache-dir', cacheDir]);
      expect(removed.stderr).toBe('');
      expect(removed.status).toBe(0);
      expect(existsSync(path.join(cacheDir, 'named', 'keep'))).toBe(false);
      expect(leftovers(cacheDir)).toEqual([]);
    } finally {
      await free();
    }
  });

  it('removes owner records that a full disk left half-written', async () => {
    const tmp = path.join(cacheDir, 'sessions', '0badc0de.json.tmp');
    await writeFile(tmp, '');
    const old = new Date(Date.now() - 10 * 60_000);
    await utimes(tmp, old, old);
    expect(pgbranch(['gc', '--cache-dir', cacheDir]).status).toBe(0);
    expect(existsSync(tmp)).toBe(false);
  });
});

describe.skipIf(!isRoot)('faults: a read-only cache directory', () => {
  const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'faults-readonly');
  let url = '';

  beforeAll(async () => {
    await freshCacheDir(cacheDir);
    await mkdir(cacheDir, { recursive: true });
    await writeFile(path.join(os.tmpdir(), 'pgbranch-test', 'faults-readonly.sql'), "create table t (x text); insert into t values ('seeded');\n");
    expect(pgbranch(['create', 'ro', '--sql', path.join(os.tmpdir(), 'pgbranch-test', 'faults-readonly.sql'), '--cache-dir', cacheDir]).status).toBe(0);
    url = pgbranch(['url', 'ro', '--cache-dir', cacheDir]).stdout.trim();
    // A read-only bind mount over the directory itself: the running server keeps writing underneath.
    execFileSync('mount', ['--bind', cacheDir, cacheDir]);
    execFileSync('mount', ['-o', 'remount,bind,ro', cacheDir]);
  });
  afterAll(async () => {
    while (mountsUnder(cacheDir).includes(cacheDir)) execFileSync('umount', [cacheDir]);
    await freshCacheDir(cacheDir);
    expect(postgresProcessesUnder(cacheDir)).toEqual([]);
    await rm(path.join(os.tmpdir(), 'pgbranch-test', 'faults-readonly.sql'), { force: true });
  });

  it('lists branches and prints their URL from a read-only cache directory', async () => {
    const listed = pgbranch(['ls', '--cache-dir', cacheDir]);
    expect(listed.stderr).toBe('');
    expect(listed.status).toBe(0);
    expect(listed.stdout).toMatch(/^ro\s+running/m);
    const printed = pgbranch(['url', 'ro', '--cache-dir', cacheDir]);
    expect(printed.status).toBe(0);
    expect(printed.stdout.trim()).toBe(url);
    expect(await query(url, 'select x from t')).toEqual([{ x: 'seeded' }]);
  });

  it('doctor reports a read-only cache directory as a failed check, without a stack trace', () => {
    const text = pgbranch(['doctor', '--cache-dir', cacheDir]);
    expect(text.stderr).toBe('');
    expect(text.stdout).toMatch(/no\s+cache directory: .* is on a read-only filesystem/);
    expect(text.status).toBe(1);
    const json = JSON.parse(pgbranch(['doctor', '--json', '--cache-dir', cacheDir]).stdout) as { checks: Array<{ name: string; ok: boolean }> };
    expect(json.checks.find((c) => c.name === 'cache directory')?.ok).toBe(false);
  });

  it('refuses to change anything there with a clear error', () => {
    const { status, stderr } = pgbranch(['create', 'more', '--from', 'ro', '--cache-dir', cacheDir]);
    expect(status).toBe(1);
    expect(stderr).toMatch(/Cannot write to the cache directory .*read-only file system.*PGBRANCH_CACHE_DIR/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
