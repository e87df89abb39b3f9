import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type Snapshot } from '@pgbranch/core';
import { query } from './support/pg.js';
import { freshCacheDir, postgresProcessesUnder, repoRoot } from './support/processes.js';
import { waitUntil } from './support/wait.js';

const RECIPE = path.join(repoRoot, 'fixtures/recipes/relay-store');
const MAIN = path.join(repoRoot, 'packages/core/dist/cli/main.js');
const LOCK = pathToFileURL(path.join(repoRoot, 'packages/core/dist/cache/lock.js')).href;

function pgbranch(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** True once `pid` is gone or a zombie. */
function gone(pid: number): boolean {
  const r = spawnSync('sh', ['-c', `grep -q '^State:.*Z' /proc/${pid}/status 2>/dev/null || ! kill -0 ${pid} 2>/dev/null`]);
  return r.status === 0;
}

/** A child process that takes the lock and reports it; it holds the lock until killed or for `holdMs`. */
function lockHolder(lockPath: string, holdMs: number) {
  const code = `const { withLock } = await import(${JSON.stringify(LOCK)});
await withLock(${JSON.stringify(lockPath)}, async () => { console.log('held'); await new Promise((r) => setTimeout(r, ${holdMs})); console.log('releasing'); });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const held = new Promise<void>((resolve) => child.stdout.on('data', (d) => ((out += d), out.includes('held') && resolve())));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { child, held, exited, output: () => out };
}

describe('faults: killed processes', () => {
  const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'faults-crash');
  let engine: Engine;
  let snap: Snapshot;

  beforeAll(async () => {
    await freshCacheDir(cacheDir);
    engine = await createEngine({ cacheDir });
    snap = await engine.snapshot({ name: 'relay', sql: [RECIPE] });
  });
  afterAll(async () => {
    await engine.close();
    await freshCacheDir(cacheDir);
    expect(postgresProcessesUnder(cacheDir)).toEqual([]);
  });

  it('resumes a named branch at once after its server was killed with -9, with its committed data', async () => {
    expect(pgbranch(['create', 'k9', '--from', 'relay', '--cache-dir', cacheDir]).status).toBe(0);
    const url = pgbranch(['url', 'k9', '--cache-dir', cacheDir]).stdout.trim();
    await query(url, "begin; set local synchronous_commit = on; create table kept (x text); insert into kept values ('committed'); commit");
    const [info] = JSON.parse(pgbranch(['ls', '--json', '--cache-dir', cacheDir]).stdout) as Array<{ pid: number }>;
    process.kill(info!.pid, 'SIGKILL');
    await waitUntil(() => gone(info!.pid));
    // No waiting for the zombie to be reaped or its children to exit: resume deals with them.
    const resumed = pgbranch(['resume', 'k9', '--cache-dir', cacheDir]);
    expect(resumed.stderr).toBe('');
    expect(resumed.status).toBe(0);
    expect(await query(url, 'select x from kept')).toEqual([{ x: 'committed' }]);
    expect(pgbranch(['rm', 'k9', '--cache-dir', cacheDir]).status).toBe(0);
  });

  it('resumes a named branch whose postmaster.pid names a live process that is not its server (a reused pid)', async () => {
    expect(pgbranch(['create', 'reused', '--from', 'relay', '--cache-dir', cacheDir]).status).toBe(0);
    const url = pgbranch(['url', 'reused', '--cache-dir', cacheDir]).stdout.trim();
    await query(url, "begin; set local synchronous_commit = on; create table kept (x text); insert into kept values ('committed'); commit");
    const [info] = JSON.parse(pgbranch(['ls', '--json', '--cache-dir', cacheDir]).stdout) as Array<{ pid: number; dir: string }>;
    process.kill(info!.pid, 'SIGKILL');
    await waitUntil(() => gone(info!.pid) && postgresProcessesUnder(info!.dir).length === 0);
    // After a crash or reboot the recorded pid may belong to anyone: here a process that is not a postgres.
    const stranger = spawn('sleep', ['60'], { stdio: 'ignore' });
    const stale = [path.join(info!.dir, 'data', 'postmaster.pid'), ...readdirSync(path.join(info!.dir, 'run')).filter((n) => n.endsWith('.lock')).map((n) => path.join(info!.dir, 'run', n))];
    expect(stale.length).toBe(2);
    for (const file of stale) writeFileSync(file, readFileSync(file, 'utf8').replace(/^\d+/, String(stranger.pid)));
    try {
      const resumed = pgbranch(['resume', 'reused', '--cache-dir', cacheDir]);
      expect(resumed.stderr).toBe('');
      expect(resumed.status).toBe(0);
      expect(await query(url, 'select x from kept')).toEqual([{ x: 'committed' }]);
    } finally {
      stranger.kill();
    }
    expect(pgbranch(['rm', 'reused', '--cache-dir', cacheDir]).status).toBe(0);
  });

  it('shows an engine branch whose server was killed as not running, and resume and reset bring it back', async () => {
    await using branch = await snap.branch();
    await query(branch.url, "begin; set local synchronous_commit = on; create table kept (x text); insert into kept values ('committed'); commit");
    const url = branch.url;
    let pid = branch.pid!;
    process.kill(pid, 'SIGKILL');
    await waitUntil(() => gone(pid));
    expect(branch.state).toBe('suspended');
    await branch.resume();
    expect(branch.state).toBe('running');
    expect(branch.url).toBe(url);
    expect(await query(url, 'select x from kept')).toEqual([{ x: 'committed' }]);

    pid = branch.pid!;
    process.kill(pid, 'SIGKILL');
    await waitUntil(() => gone(pid));
    expect(branch.state).toBe('suspended');
    await branch.reset();
    expect(branch.state).toBe('running');
    expect(await query(url, "select to_regclass('kept') as t")).toEqual([{ t: null }]);
  });

  it('takes over a lock whose holder was killed at once, by its pid and start time', async () => {
    const lockPath = path.join(cacheDir, 'locks', 'killed-holder.lock');
    const holder = lockHolder(lockPath, 600_000);
    await holder.held;
    holder.child.kill('SIGKILL');
    await holder.exited;
    const { withLock } = (await import(LOCK)) as typeof import('../packages/core/src/cache/lock.js');
    // Ten minutes of staleness: only the dead holder's pid can free this lock within the test's time.
    expect(await withLock(lockPath, async () => 'taken', { staleMs: 600_000 })).toBe('taken');
    expect(existsSync(lockPath)).toBe(false);
  });

  it('waits for a live holder, however stale its lock looks', async () => {
    const lockPath = path.join(cacheDir, 'locks', 'live-holder.lock');
    const holder = lockHolder(lockPath, 1500);
    await holder.held;
    const { withLock } = (await import(LOCK)) as typeof import('../packages/core/src/cache/lock.js');
    const seen = await withLock(lockPath, async () => holder.output(), { staleMs: 50 });
    expect(seen).toContain('releasing');
    await holder.exited;
  });
});
