import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, SeedError, type Engine, type Snapshot } from '@pgbranch/core';
import { query } from './support/pg.js';
import { waitUntil } from './support/wait.js';
import { cli, freshCacheDir, mountsUnder, postgresProcessesUnder, repoRoot } from './support/processes.js';

const RECIPE = path.join(repoRoot, 'fixtures/recipes/relay-store');
const BROKEN = path.join(repoRoot, 'fixtures/recipes/broken');

/** The error code of a query on `url`, or 'ok' when it ran. */
async function outcome(url: string): Promise<string> {
  return query(url, 'select 1').then(
    () => 'ok',
    (err: { code?: string }) => err.code ?? 'error',
  );
}

async function databasesOf(adminUrl: string): Promise<string[]> {
  const rows = await query<{ datname: string }>(adminUrl.replace(/\/[^/]*$/, '/template1'), 'select datname from pg_database order by datname');
  return rows.map((r) => r.datname);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return postgresProcessesUnder('/').includes(pid);
  } catch {
    return false;
  }
}

describe('template driver', () => {
  const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'driver-template');
  let engine: Engine;
  let snap: Snapshot;

  beforeAll(async () => {
    await freshCacheDir(cacheDir);
    engine = await createEngine({ cacheDir, driver: 'template' });
    snap = await engine.snapshot({ name: 'relay', sql: [RECIPE] });
  });
  afterAll(async () => {
    await engine?.close();
    expect(postgresProcessesUnder(cacheDir)).toEqual([]);
    expect(mountsUnder(cacheDir)).toEqual([]);
    await freshCacheDir(cacheDir);
  });

  it('reports template databases as its storage and a database per branch in one server', async () => {
    const info = engine.info();
    expect(info.driver).toBe('template');
    expect(info.cloner).toBe('template-database');
    expect(info.clonerReason).toMatch(/STRATEGY FILE_COPY/);
    await using a = await snap.branch();
    await using b = await snap.branch();
    expect(a.connectionOptions()).toMatchObject({ host: '127.0.0.1', user: 'postgres', database: `branch_${a.id}` });
    expect(a.port).toBe(b.port);
    expect(a.pid).toBe(b.pid);
    expect(a.dir).toBe(b.dir);
    expect(a.socketDir).toBeDefined();
    expect(a.url).not.toBe(b.url);
    expect(postgresProcessesUnder(a.dir!)).toContain(a.pid);
    expect(await query(a.url, 'select current_database() as db')).toEqual([{ db: `branch_${a.id}` }]);
  });

  it('isolates branches from each other and from the snapshot', async () => {
    await using a = await snap.branch({ name: 'a' });
    await using b = await snap.branch({ name: 'b' });
    await query(a.url, 'create table only_in_a (id int); insert into only_in_a values (1)');
    await query(b.url, 'truncate relay.accounts cascade');
    expect(await query(b.url, "select to_regclass('only_in_a') as t")).toEqual([{ t: null }]);
    await using c = await snap.branch({ name: 'c' });
    expect(await query(c.url, "select to_regclass('only_in_a') as t")).toEqual([{ t: null }]);
    const [count] = await query<{ n: number }>(c.url, 'select count(*)::int as n from relay.accounts');
    expect(count!.n).toBeGreaterThan(0);
    expect(await query(a.url, 'select count(*)::int as n from relay.accounts')).toEqual([count]);
  });

  it('resets a branch to its snapshot on the same url, running', async () => {
    await using branch = await snap.branch();
    const url = branch.url;
    await query(url, 'create table scratch (x int)');
    await branch.suspend();
    await branch.reset();
    expect(branch.url).toBe(url);
    expect(branch.state).toBe('running');
    expect(await query(url, "select to_regclass('scratch') as t")).toEqual([{ t: null }]);
    // The old database is dropped after reset() returned.
    let leftover = ['?'];
    for (let i = 0; i < 100 && leftover.length > 0; i++) {
      leftover = (await databasesOf(url)).filter((d) => d.startsWith(`branch_${branch.id}_`));
      if (leftover.length) await new Promise((r) => setTimeout(r, 50));
    }
    expect(leftover).toEqual([]);
  });

  it('snapshots a branch into a template database of the same server, and branches it', async () => {
    await using branch = await snap.branch();
    await query(branch.url, 'create table marker (v text)');
    await query(branch.url, "insert into marker values ('from-branch')");
    const child = await branch.snapshot({ name: 'with-marker' });
    // The branch runs on, connections allowed again.
    expect(await outcome(branch.url)).toBe('ok');
    expect((await engine.storedSnapshots()).map((s) => s.hash)).toContain(child.hash);
    await using grandchild = await child.branch();
    expect(grandchild.port).toBe(branch.port);
    expect(await query(grandchild.url, 'select v from marker')).toEqual([{ v: 'from-branch' }]);
    await query(grandchild.url, "insert into marker values ('only-grandchild')");
    expect(await query(branch.url, 'select count(*)::int as n from marker')).toEqual([{ n: 1 }]);
    expect(await databasesOf(branch.url)).toContain(`snapshot_${child.hash}`);
    // A recipe on top of it needs a data directory: refused with the way out, nothing half made.
    await expect(engine.snapshot({ name: 'on-top', sql: [RECIPE], parent: child })).rejects.toThrow(/snapshot of a branch/);
  });

  it('keeps copies of the template ahead: a new branch is a spare database renamed', async () => {
    const own = await createEngine({ cacheDir, driver: 'template' }); // one template in its server
    try {
      const s = await own.snapshot({ name: 'relay', sql: [RECIPE] });
      const first = await s.branch();
      const spares = async () => query<{ oid: number }>(first.url.replace(/\/[^/]*$/, '/template1'), "select oid::int from pg_database where datname like 'spare\\_%'");
      let ready: Array<{ oid: number }> = [];
      for (let i = 0; i < 200 && ready.length < 2; i++) {
        ready = await spares();
        if (ready.length < 2) await new Promise((r) => setTimeout(r, 50));
      }
      expect(ready).toHaveLength(2);
      const next = await s.branch();
      const [mine] = await query<{ oid: number }>(next.url, 'select oid::int from pg_database where datname = current_database()');
      expect(ready.map((r) => r.oid)).toContain(mine!.oid);
      const [{ n }] = (await query<{ n: number }>(next.url, 'select count(*)::int as n from relay.accounts')) as [{ n: number }];
      expect(n).toBeGreaterThan(0);
    } finally {
      await own.close();
    }
  });

  it('destroys a branch (its database), twice safely, and rejects use afterwards', async () => {
    const branch = await snap.branch();
    const url = branch.url;
    const database = branch.connectionOptions().database;
    await branch.destroy();
    await branch.destroy();
    expect(() => branch.url).toThrow(/destroyed/);
    expect(await outcome(url)).toBe('3D000'); // invalid_catalog_name: the database is gone
    await using next = await snap.branch();
    expect(await databasesOf(next.url)).not.toContain(database);
    expect(await outcome(next.url)).toBe('ok');
  });

  it('suspends (refusing connections) and resumes on the same URL with its data', async () => {
    await using branch = await snap.branch();
    const url = branch.url;
    await query(url, 'create table kept (x int); insert into kept values (7)');
    await branch.suspend();
    expect(branch.state).toBe('suspended');
    expect(await outcome(url)).toBe('55000'); // object_not_in_prerequisite_state: not accepting connections
    await branch.suspend();
    await branch.resume();
    expect(branch.state).toBe('running');
    expect(branch.url).toBe(url);
    expect(await query(url, 'select x from kept')).toEqual([{ x: 7 }]);
  });

  it('creates 8 branches at once, each its own database, the first ones sharing one server start', async () => {
    const fresh = await createEngine({ cacheDir, driver: 'template' });
    try {
      const s = await fresh.snapshot({ name: 'relay', sql: [RECIPE] });
      const branches = await Promise.all(Array.from({ length: 8 }, (_, i) => s.branch({ name: `c${i}` })));
      expect(new Set(branches.map((b) => b.pid)).size).toBe(1);
      const names = await Promise.all(branches.map(async (b, i) => {
        await query(b.url, `create table mine_${i} (x int)`);
        return (await query<{ db: string }>(b.url, 'select current_database() as db'))[0]!.db;
      }));
      expect(new Set(names).size).toBe(8);
      const seen = await query<{ n: number }>(branches[0]!.url, "select count(*)::int as n from pg_class where relname like 'mine\\_%'");
      expect(seen).toEqual([{ n: 1 }]);
      expect(postgresProcessesUnder(branches[0]!.dir!)).toContain(branches[0]!.pid);
    } finally {
      await fresh.close();
    }
  });

  it('loses the branches of a crashed template server, and starts a new server for the next branch', async () => {
    const own = await createEngine({ cacheDir, driver: 'template' });
    const sessionDir = path.join(cacheDir, 'branches', own.info().session);
    try {
      const s = await own.snapshot({ name: 'relay', sql: [RECIPE] });
      const a = await s.branch();
      const child = await a.snapshot({ name: 'relay-child' }); // a database of the server about to crash
      const crashed = a.pid!;
      process.kill(crashed, 'SIGKILL');
      // SIGKILL lands once the process leaves the kernel; on a busy machine that can take seconds.
      await waitUntil(() => a.state !== 'running', 30_000);
      expect(a.state).toBe('suspended'); // not running
      await expect(a.resume()).rejects.toMatchObject({ code: 'PGBRANCH_TEMPLATE_SERVER_DOWN' });
      const b = await s.branch();
      expect(b.pid).not.toBe(crashed);
      expect(await outcome(b.url)).toBe('ok');
      // The snapshot of a branch went with the crashed server: said so, and the new server is left alone.
      await expect(child.branch()).rejects.toMatchObject({ code: 'PGBRANCH_TEMPLATE_SERVER_DOWN' });
      expect(await outcome(b.url)).toBe('ok');
      await a.destroy();
    } finally {
      await own.close();
    }
    expect(postgresProcessesUnder(sessionDir)).toEqual([]);
    expect(existsSync(sessionDir)).toBe(false);
  });

  it('reports broken SQL with file and line and caches nothing', async () => {
    const err = await engine.snapshot({ name: 'broken', sql: [BROKEN] }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(SeedError);
    expect((err as SeedError).message).toContain('002_orders.sql:7:39');
    expect((await readdir(path.join(cacheDir, 'snapshots'))).filter((n) => n.startsWith('.build-'))).toEqual([]);
    const dir = await mkdtemp(path.join(cacheDir, 'fixme-'));
    await cp(BROKEN, dir, { recursive: true });
    await writeFile(path.join(dir, '002_orders.sql'), 'create table orders (id int primary key, total numeric);\n');
    const fixed = await engine.snapshot({ name: 'fixme', sql: [dir] });
    await using branch = await fixed.branch();
    expect(await query(branch.url, "select to_regclass('orders')::text as t")).toEqual([{ t: 'orders' }]);
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves no server, database directory or owner record after close', async () => {
    const own = await createEngine({ cacheDir, driver: 'template' });
    const s = await own.snapshot({ name: 'relay', sql: [RECIPE] });
    expect(s.reused).toBe(true);
    const branch = await s.branch();
    await branch.snapshot();
    await s.branch(); // left open on purpose: close() takes it
    const host = { pid: branch.pid!, dir: branch.dir! };
    const session = own.info().session;
    await own.close();
    expect(isAlive(host.pid)).toBe(false);
    expect(existsSync(host.dir)).toBe(false);
    expect(existsSync(path.join(cacheDir, 'branches', session))).toBe(false);
    expect(existsSync(path.join(cacheDir, 'sessions', `${session}.json`))).toBe(false);
  });

  /** Runs an engine in a child process that makes two branches, prints where the first is, then does `then`. */
  async function holder(then: string) {
    const script = [
      "import { createEngine } from '@pgbranch/core';",
      `const engine = await createEngine({ cacheDir: ${JSON.stringify(cacheDir)}, driver: 'template' });`,
      `const snap = await engine.snapshot({ name: 'relay', sql: [${JSON.stringify(RECIPE)}] });`,
      'const a = await snap.branch(); await snap.branch(); await a.snapshot();',
      'process.stdout.write(JSON.stringify({ pid: a.pid, dir: a.dir, url: a.url }) + "\\n");',
      then,
    ].join('\n');
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: path.join(repoRoot, 'test'), stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, PGBRANCH_QUIET: '1' } });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const held = await new Promise<{ pid: number; dir: string; url: string }>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(JSON.parse(out.slice(0, out.indexOf('\n'))));
      });
      void exited.then((code) => reject(new Error(`holder exited ${code} before printing`)));
    });
    return { child, held, exited };
  }

  it('stops its template servers when the process exits without closing the engine', async () => {
    const { held, exited } = await holder('process.exit(0);');
    expect(await exited).toBe(0);
    expect(isAlive(held.pid)).toBe(false);
    expect(existsSync(held.dir)).toBe(false);
  });

  it('reaps the template server of an owner killed with SIGKILL on the next createEngine', async () => {
    const { child, held, exited } = await holder('setInterval(() => undefined, 1 << 30);');
    child.kill('SIGKILL');
    await exited;
    // The server outlives its owner until someone reaps it.
    expect(isAlive(held.pid)).toBe(true);
    expect(await outcome(held.url)).toBe('ok');
    const next = await createEngine({ cacheDir, driver: 'template' });
    await next.close();
    expect(isAlive(held.pid)).toBe(false);
    expect(existsSync(held.dir)).toBe(false);
    // This engine's own server is untouched by reaping.
    await using mine = await snap.branch();
    expect(await outcome(mine.url)).toBe('ok');
  });

  it('shares seeded snapshots with the local driver in one cache directory', async () => {
    const shared = path.join(os.tmpdir(), 'pgbranch-test', 'driver-template-shared');
    await freshCacheDir(shared);
    const local = await createEngine({ cacheDir: shared, driver: 'local' });
    const template = await createEngine({ cacheDir: shared, driver: 'template' });
    try {
      const built = await local.snapshot({ name: 'relay', sql: [RECIPE] });
      expect(built.reused).toBe(false);
      const found = await template.snapshot({ name: 'relay', sql: [RECIPE] });
      expect(found.reused).toBe(true);
      expect(found.hash).toBe(built.hash);
      await using t = await found.branch();
      await using l = await built.branch();
      const count = 'select count(*)::int as n from relay.accounts';
      expect(await query(t.url, count)).toEqual(await query(l.url, count));
    } finally {
      await template.close();
      await local.close();
      expect(postgresProcessesUnder(shared)).toEqual([]);
      await freshCacheDir(shared);
    }
  });

  it('runs named branches as servers of their own: pgbranch create/ls/suspend/resume/rm --driver template', async () => {
    const args = ['--cache-dir', cacheDir, '--driver', 'template'];
    try {
      expect(cli(['create', 'tpl-named', '--from', 'relay', ...args])).toMatch(/tpl-named: running/);
      const url = cli(['url', 'tpl-named', ...args]).trim();
      expect(url).toMatch(/\/postgres$/);
      expect(await outcome(url)).toBe('ok');
      const [listed] = JSON.parse(cli(['ls', '--json', ...args])) as Array<{ name: string; state: string; dir: string }>;
      expect(listed).toMatchObject({ name: 'tpl-named', state: 'running' });
      expect(postgresProcessesUnder(listed!.dir)).toHaveLength(1);
      // Without --driver, `ls`, `url` and `rm` find the branch by its record, whichever driver runs it.
      const everyDriver = JSON.parse(cli(['ls', '--json', '--cache-dir', cacheDir])) as Array<{ name: string; driver: string }>;
      expect(everyDriver).toEqual([expect.objectContaining({ name: 'tpl-named', driver: 'template' })]);
      expect(cli(['url', 'tpl-named', '--cache-dir', cacheDir]).trim()).toBe(url);
      cli(['suspend', 'tpl-named', ...args]);
      expect(await outcome(url)).toBe('ECONNREFUSED');
      cli(['resume', 'tpl-named', ...args]);
      expect(await outcome(url)).toBe('ok');
      expect(cli(['rm', 'tpl-named', ...args])).toContain('removed tpl-named');
      expect(postgresProcessesUnder(listed!.dir)).toEqual([]);
      expect(readdirSync(path.join(cacheDir, 'named'))).toEqual([]);
    } finally {
      if (existsSync(path.join(cacheDir, 'named', 'tpl-named'))) cli(['rm', 'tpl-named', ...args]);
    }
  });
});
