import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, Keeper, type Engine, type KeeperEvent, type NamedBranches, type Snapshot } from '@pgbranch/core';
import { query } from './support/pg.js';
import { cli, freshCacheDir, mountsUnder, postgresProcessesUnder, repoRoot, runScript } from './support/processes.js';
import { waitUntil } from './support/wait.js';

const RECIPE = path.join(repoRoot, 'fixtures/recipes/relay-store');
const run = promisify(execFile);

/** The CLI's exit code and output, for commands that are meant to fail. */
function cliFailure(args: string[]): { status: number; stderr: string } {
  try {
    cli(args);
  } catch (err) {
    const e = err as { status: number; stderr: string };
    return { status: e.status, stderr: e.stderr };
  }
  throw new Error(`pgbranch ${args.join(' ')} succeeded`);
}

async function refused(url: string): Promise<boolean> {
  return query(url, 'select 1').then(
    () => false,
    (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED',
  );
}

describe('branch lifecycle', () => {
  const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'lifecycle');
  let engine: Engine;
  let snap: Snapshot;
  let named: NamedBranches;

  beforeAll(async () => {
    await freshCacheDir(cacheDir);
    engine = await createEngine({ cacheDir });
    snap = await engine.snapshot({ name: 'relay', sql: [RECIPE] });
    named = engine.named();
  });
  afterAll(async () => {
    for (const b of await named.list()) await named.destroy(b.name);
    await engine.close();
    expect(postgresProcessesUnder(cacheDir)).toEqual([]);
    expect(mountsUnder(cacheDir)).toEqual([]);
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('suspends and resumes a test branch on the same URL with its data', async () => {
    await using branch = await snap.branch();
    await query(branch.url, 'create table kept (x int); insert into kept values (7)');
    const url = branch.url;
    await branch.suspend();
    expect(branch.state).toBe('suspended');
    expect(branch.url).toBe(url);
    expect(await refused(url)).toBe(true);
    await branch.suspend(); // twice: nothing to do
    await branch.resume();
    expect(branch.state).toBe('running');
    expect(await query(url, 'select x from kept')).toEqual([{ x: 7 }]);
    await branch.suspend();
    await branch.reset(); // a reset of a suspended branch leaves it running, back at the snapshot
    expect(await query(url, "select to_regclass('kept') as t")).toEqual([{ t: null }]);
  });

  it('keeps named branches across engines, suspended or running', async () => {
    const info = await named.create('feature-a', snap, { labels: { team: 'sync' } });
    expect(info).toMatchObject({ name: 'feature-a', state: 'running', labels: { team: 'sync' }, snapshot: { name: 'relay' } });
    const url = named.url(info);
    await query(url, "create table notes (body text); insert into notes values ('draft')");

    const suspended = await named.suspend('feature-a');
    expect(suspended.state).toBe('suspended');
    expect(postgresProcessesUnder(named.dir('feature-a'))).toEqual([]);

    // Another engine (another process in real life) sees the same branch and resumes it on the same port.
    await using other = await createEngine({ cacheDir });
    const resumed = await other.named().resume('feature-a');
    expect(resumed.port).toBe(info.port);
    expect(await query(url, 'select body from notes')).toEqual([{ body: 'draft' }]);
    await other.close();
    // Closing that engine leaves the named branch running.
    expect((await named.get('feature-a')).state).toBe('running');
    expect(await query(url, 'select count(*)::int as n from notes')).toEqual([{ n: 1 }]);
  });

  it('branches a named branch, resets to the moment it branched, and removes it', async () => {
    const child = await named.create('feature-b', 'feature-a');
    expect(child.fromBranch).toBe('feature-a');
    const url = named.url(child);
    expect(await query(url, 'select body from notes')).toEqual([{ body: 'draft' }]);
    await query(url, "insert into notes values ('only in b')");
    // The source still runs and does not see the child's rows.
    expect(await query(named.url(await named.get('feature-a')), 'select count(*)::int as n from notes')).toEqual([{ n: 1 }]);
    const reset = await named.reset('feature-b');
    expect(reset.port).toBe(child.port);
    expect(await query(url, 'select body from notes')).toEqual([{ body: 'draft' }]);
    await named.destroy('feature-b');
    expect(existsSync(named.dir('feature-b'))).toBe(false);
    expect(postgresProcessesUnder(named.dir('feature-b'))).toEqual([]);
    // Its frozen parent snapshot went with it; the recipe snapshot stays.
    expect((await engine.storedSnapshots()).filter((m) => m.kind === 'branch')).toEqual([]);
  });

  it('recovers a branch whose server was killed, keeping committed data', async () => {
    const info = await named.get('feature-a');
    process.kill(info.pid!, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    const after = await named.get('feature-a');
    expect(after.state).toBe('suspended');
    expect(after.problem).toMatch(/stopped unexpectedly/);
    // Its children (backends, checkpointer) may linger a moment after a SIGKILLed postmaster.
    for (let i = 0; i < 50 && postgresProcessesUnder(named.dir('feature-a')).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    await named.resume('feature-a');
    expect(await query(named.url(info), 'select body from notes')).toEqual([{ body: 'draft' }]);
  });

  it('finishes a reset that a crash interrupted', async () => {
    const info = await named.create('half-reset', snap);
    await query(named.url(info), 'create table gone (x int)');
    // What a crash between "resetting" and the restart leaves: the server stopped, the record says resetting.
    await named.suspend('half-reset');
    const metaPath = path.join(named.dir('half-reset'), 'branch.json');
    const { readFile, writeFile } = await import('node:fs/promises');
    const meta = JSON.parse(await readFile(metaPath, 'utf8'));
    await writeFile(metaPath, JSON.stringify({ ...meta, state: 'resetting' }));
    expect((await named.get('half-reset')).problem).toMatch(/reset was interrupted/);
    await named.resume('half-reset');
    expect(await query(named.url(info), "select to_regclass('gone') as t")).toEqual([{ t: null }]);
    await named.destroy('half-reset');
  });

  it('mounts an overlay branch again when its mount is gone (as after a reboot)', async () => {
    const info = await named.create('remount', snap);
    await query(named.url(info), 'create table survives (x int); insert into survives values (5)');
    await named.suspend('remount');
    const dataDir = path.join(named.dir('remount'), 'data');
    if (engine.info().cloner === 'overlay') {
      await run('umount', [dataDir]);
      expect(mountsUnder(dataDir)).toEqual([]);
    } else {
      expect(mountsUnder(dataDir)).toEqual([]); // a plain directory: nothing to mount
    }
    await named.resume('remount');
    expect(await query(named.url(info), 'select x from survives')).toEqual([{ x: 5 }]);
    await named.destroy('remount');
  });

  it('drives branches from the CLI with JSON output and exit codes', async () => {
    const created = JSON.parse(cli(['create', 'cli-a', '--from', 'relay', '--ttl', '2h', '--label', 'ci=yes', '--json', '--cache-dir', cacheDir]));
    expect(created).toMatchObject({ name: 'cli-a', state: 'running', labels: { ci: 'yes' } });
    expect(Date.parse(created.expiresAt) - Date.now()).toBeGreaterThan(7_000_000);
    const table = cli(['ls', '--cache-dir', cacheDir]);
    expect(table).toMatch(/^NAME\s+STATE\s+FROM\s+PORT/);
    expect(table).toMatch(/cli-a\s+running\s+relay\s+\d+/);
    expect(table).not.toContain(engine.info().cacheDir + '/secret');
    const url = cli(['url', 'cli-a', '--cache-dir', cacheDir]).trim();
    expect(url).toBe(named.url(created));
    expect(cli(['suspend', 'cli-a', '--cache-dir', cacheDir])).toMatch(/cli-a: suspended/);
    expect(cli(['ls', '--cache-dir', cacheDir])).toMatch(/cli-a\s+suspended/);
    expect(cli(['resume', 'cli-a', '--cache-dir', cacheDir])).toMatch(/cli-a: running/);
    expect(await query(url, 'select 1 as one')).toEqual([{ one: 1 }]);
    // Nothing printed by ls, create or suspend carries the password.
    const password = decodeURIComponent(new URL(url).password);
    expect(table + JSON.stringify(created)).not.toContain(password);

    expect(cliFailure(['url', 'nope', '--cache-dir', cacheDir])).toMatchObject({ status: 3, stderr: expect.stringMatching(/No branch named "nope".*cli-a/) });
    expect(cliFailure(['create', 'x', '--from', 'nope', '--cache-dir', cacheDir])).toMatchObject({ status: 2, stderr: expect.stringMatching(/No branch or snapshot called "nope".*relay/) });
    expect(cliFailure(['create', 'cli-a', '--from', 'relay', '--cache-dir', cacheDir])).toMatchObject({ status: 2, stderr: expect.stringMatching(/already exists/) });
    expect(cliFailure(['create', 'Bad Name!', '--from', 'relay', '--cache-dir', cacheDir]).stderr).toMatch(/not valid/);
    expect(cliFailure(['create', 'y', '--from', 'relay', '--ttl', 'soon', '--cache-dir', cacheDir]).stderr).toMatch(/not a duration/);
    expect(cli(['rm', 'cli-a', '--cache-dir', cacheDir])).toMatch(/removed cli-a/);
  });

  it('expires branches by TTL in gc and in the keeper', async () => {
    await named.create('short-gc', snap, { ttlMs: 1 });
    const pid = (await named.get('short-gc')).pid!;
    await new Promise((r) => setTimeout(r, 20));
    expect((await named.get('short-gc')).expired).toBe(true);
    const out = cli(['gc', '--cache-dir', cacheDir]);
    expect(out).toMatch(/removed branch short-gc \(expired\)/);
    expect(existsSync(named.dir('short-gc'))).toBe(false);
    expect(postgresProcessesUnder(cacheDir)).not.toContain(pid);

    await named.create('short-keeper', snap, { ttlMs: 1, start: false });
    const events: KeeperEvent[] = [];
    const keeper = new Keeper(engine, { intervalMs: 100, onEvent: (e) => events.push(e) });
    await keeper.start();
    await keeper.tick();
    await keeper.close();
    expect(events).toContainEqual(expect.objectContaining({ branch: 'short-keeper', action: 'expired' }));
    expect(existsSync(named.dir('short-keeper'))).toBe(false);
  });

  it('suspends idle branches and wakes them when pg or psql connects', async () => {
    const info = await named.create('sleepy', snap);
    const url = named.url(info);
    await query(url, 'create table t (x int); insert into t values (1)');
    const events: KeeperEvent[] = [];
    const keeper = new Keeper(engine, { intervalMs: 100, idleAfterMs: 100, suspendAfterMs: 400, onEvent: (e) => events.push(e) });
    // Suspended, and its port held by the keeper (a connection between the two is refused, like any stopped server).
    // Each call comes while the branch runs, so it waits for the next "holding".
    const holds = () => events.filter((e) => e.branch === 'sleepy' && e.action === 'holding').length;
    const asleep = async () => {
      const before = holds();
      await waitUntil(() => holds() > before, 10_000, 50);
    };
    // An open connection is activity: the branch stays up while a client holds it. Held from before the keeper starts,
    // so that the refused second keeper below (a Node process starting, slow on a loaded machine) cannot outlast
    // suspendAfterMs while nothing is connected.
    const pg = (await import('pg')).default;
    const holder = new pg.Client({ connectionString: url });
    holder.on('error', () => undefined); // a failure below may stop the server under it
    await holder.connect();
    await keeper.start();
    try {
      // A second keeper on the same cache is refused.
      const other = runScript('start-keeper.mjs', [cacheDir]);
      await expect(other.done).rejects.toThrow(/Another keeper \(pid \d+/);

      await new Promise((r) => setTimeout(r, 800));
      expect((await named.get('sleepy')).state).toBe('running');
      await holder.end();

      await asleep();
      expect(events).toContainEqual(expect.objectContaining({ branch: 'sleepy', action: 'suspended' }));
      expect(postgresProcessesUnder(named.dir('sleepy'))).toEqual([]);

      // pg: the first connection wakes it and goes through.
      expect(await query(url, 'select x from t')).toEqual([{ x: 1 }]);
      // The client is let in once the server accepts connections; the keeper reports the wake when resume is done.
      await waitUntil(() => events.some((e) => e.branch === 'sleepy' && e.action === 'woke'), 10_000, 20);

      // psql, after it fell asleep again.
      await asleep();
      const { stdout } = await run('psql', [url, '-XAtc', 'select x + 41 from t']);
      expect(stdout.trim()).toBe('42');

      // `pgbranch resume` while the keeper holds the port goes through the keeper.
      await asleep();
      // (Asynchronously: the keeper runs in this process.)
      const resumed = await run(process.execPath, [path.join(repoRoot, 'packages/core/dist/cli/main.js'), 'resume', 'sleepy', '--cache-dir', cacheDir]);
      expect(resumed.stdout).toMatch(/sleepy: (running|idle)/);
    } finally {
      await keeper.close();
    }
    expect(existsSync(path.join(cacheDir, 'keeper.json'))).toBe(false);
    await named.destroy('sleepy');
  });

  it('survives SIGKILL at random points: gc leaves only named branches, each of which answers', async () => {
    const iterations = 20;
    for (let i = 0; i < iterations; i++) {
      const workload = runScript('lifecycle-workload.mjs', [cacheDir, String(1000 + i), RECIPE], { untilLine: (l) => l.ready === true });
      await workload.done;
      await new Promise((r) => setTimeout(r, 150 + ((i * 7919) % 1200)));
      workload.child.kill('SIGKILL');
      await new Promise((r) => workload.child.once('exit', r));
      cli(['gc', '--cache-dir', cacheDir]);

      // No session branch, build or owner record of the dead process is left.
      expect(readdirSync(path.join(cacheDir, 'branches')).filter((s) => s !== engine.info().session)).toEqual([]);
      expect(readdirSync(path.join(cacheDir, 'snapshots')).filter((s) => s.startsWith('.build-'))).toEqual([]);
      const survivors = await named.list();
      expect(survivors.filter((b) => b.state === 'broken' || b.state === 'creating')).toEqual([]);
      // Every server and mount belongs to a named branch (or to this test's engine, which holds none now).
      const namedDirs = survivors.map((b) => b.dir);
      for (const pid of postgresProcessesUnder(cacheDir)) {
        expect(namedDirs.some((d) => postgresProcessesUnder(d).includes(pid))).toBe(true);
      }
      for (const mount of mountsUnder(cacheDir)) expect(namedDirs.some((d) => mount.startsWith(d + '/'))).toBe(true);
      // Every surviving named branch opens and answers.
      for (const b of survivors) {
        const info = await named.resume(b.name);
        expect(await query(named.url(info), 'select count(*)::int as n from pg_class')).toEqual([{ n: expect.any(Number) }]);
      }
    }
    for (const b of await named.list()) await named.destroy(b.name);
    expect(postgresProcessesUnder(cacheDir)).toEqual([]);
    expect(mountsUnder(cacheDir)).toEqual([]);
  });
});
