import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Branch, type Engine } from '@pgbranch/core';
import { query } from './support/pg.js';
import { cli, freshCacheDir, uidOf } from './support/processes.js';
import { requireAll } from './support/targets.js';

/** A second, unprivileged local user: the one who plants paths and tries to get in. */
const INTRUDER = 'pgbranch-intruder';
const PSQL = '/usr/lib/postgresql/15/bin/psql';
const root = path.join(os.tmpdir(), 'pgbranch-test', 'security');
const unavailable =
  process.getuid?.() !== 0 ? 'these checks need root (pgbranch drops privileges only as root) and a second account'
  : !existsSync(PSQL) ? `${PSQL} is needed to connect as other OS users (apt-get install postgresql-client)`
  : undefined;

/** Runs a command as another OS user; never throws. */
function runAs(user: string, file: string, args: string[]): { status: number | null; output: string } {
  const r = spawnSync('runuser', ['-u', user, '--', file, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, LC_ALL: 'C' } });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function ensureIntruder(): void {
  if (spawnSync('id', ['-u', INTRUDER]).status === 0) return;
  const made = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', INTRUDER], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`useradd ${INTRUDER} failed: ${made.stderr}`);
}

/** psql over a unix socket without any password (never prompts). */
function psqlOverSocket(user: string, socketDir: string, port: number, sql: string): { status: number | null; output: string } {
  return runAs(user, PSQL, ['-w', '-X', '-At', '-h', socketDir, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-c', sql]);
}

function accountOf(cacheDir: string): { user: string; uid: number } {
  return JSON.parse(readFileSync(path.join(cacheDir, 'server-account.json'), 'utf8')) as { user: string; uid: number };
}

/** The OS user a process runs as. */
function userOf(pid: number): string {
  const uid = uidOf(pid);
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[2] === String(uid));
  return line ? line.split(':')[0]! : String(uid);
}

if (unavailable && !requireAll()) {
  describe.skip(`isolation between branches and local users (skipped: ${unavailable})`, () => it('needs root', () => undefined));
} else {
  describe('isolation between branches and local users', () => {
    const sql = path.join(root, 'recipe.sql');
    const cacheA = path.join(root, 'a');
    const cacheB = path.join(root, 'b');
    let a: Engine;
    let b: Engine;
    let branchA: Branch;
    let branchB: Branch;

    beforeAll(async () => {
      if (unavailable) throw new Error(`PGBRANCH_TEST_REQUIRE=all but ${unavailable}`);
      ensureIntruder();
      await Promise.all([freshCacheDir(cacheA), freshCacheDir(cacheB)]);
      mkdirSync(root, { recursive: true });
      writeFileSync(sql, "create table secrets (v text); insert into secrets values ('only-for-this-branch');\n");
      [a, b] = await Promise.all([createEngine({ cacheDir: cacheA, driver: 'local' }), createEngine({ cacheDir: cacheB, driver: 'local' })]);
      const [snapA, snapB] = await Promise.all([a.snapshot({ name: 'secrets', sql: [sql] }), b.snapshot({ name: 'secrets', sql: [sql] })]);
      [branchA, branchB] = await Promise.all([snapA.branch(), snapB.branch()]);
    });

    afterAll(async () => {
      await Promise.all([a?.close(), b?.close()]);
      await Promise.all([freshCacheDir(cacheA), freshCacheDir(cacheB)]);
    });

    it('runs the servers of two cache directories as two dedicated accounts (not nobody), recorded in each cache', () => {
      const uidA = uidOf(branchA.pid!);
      const uidB = uidOf(branchB.pid!);
      expect(uidA).not.toBe(uidB);
      for (const uid of [uidA, uidB]) expect([0, 65534]).not.toContain(uid);
      expect(accountOf(cacheA).uid).toBe(uidA);
      expect(accountOf(cacheB).uid).toBe(uidB);
      const hash = (dir: string) => createHash('sha256').update(dir).digest('hex').slice(0, 8);
      expect(accountOf(cacheA).user).toBe(`pgb-${hash(cacheA)}`);
      const data = statSync(path.join(branchA.dir!, 'data'));
      expect({ uid: data.uid, mode: data.mode & 0o777 }).toEqual({ uid: uidA, mode: 0o700 });
    });

    it("keeps one cache directory's server account out of another's data", async () => {
      const attempt = runAs(userOf(branchA.pid!), 'cat', [path.join(branchB.dir!, 'data', 'PG_VERSION')]);
      expect(attempt.status, attempt.output).not.toBe(0);
      expect(attempt.output).toMatch(/Permission denied/);
      // A branch's own superuser, running shell commands as its server account, is refused just the same
      // (while the same command reads its own branch's file).
      const copy = (dir: string) => query(branchA.url, `create table if not exists scratch (v text); copy scratch from program 'cat ${path.join(dir, 'data', 'PG_VERSION')}'`);
      await copy(branchA.dir!);
      await expect(copy(branchB.dir!)).rejects.toThrow(/program "cat .*" failed/);
    });

    it('refuses unix socket connections without the password from the server account and from other users', async () => {
      const own = psqlOverSocket(userOf(branchA.pid!), branchA.socketDir!, branchA.port, 'select v from secrets');
      expect(own.status, own.output).not.toBe(0);
      expect(own.output).not.toContain('only-for-this-branch');
      const other = psqlOverSocket(INTRUDER, branchA.socketDir!, branchA.port, 'select v from secrets');
      expect(other.status, other.output).not.toBe(0);
      // pgbranch itself (root) still connects over the socket, and the URL's password works over TCP.
      const rootOnSocket = spawnSync(PSQL, ['-w', '-X', '-At', '-h', branchA.socketDir!, '-p', String(branchA.port), '-U', 'postgres', '-d', 'postgres', '-c', 'select v from secrets'], { encoding: 'utf8' });
      expect(rootOnSocket.stdout.trim(), rootOnSocket.stderr).toBe('only-for-this-branch');
      expect(await query(branchA.url, 'select v from secrets')).toEqual([{ v: 'only-for-this-branch' }]);
    });

    it("gives named branches their own password: one branch's URL does not open a sibling, nor does its SQL", async () => {
      cli(['create', 'first', '--from', 'secrets', '--cache-dir', cacheA]);
      cli(['create', 'second', '--from', 'secrets', '--cache-dir', cacheA]);
      const first = new URL(cli(['url', 'first', '--cache-dir', cacheA]).trim());
      const second = new URL(cli(['url', 'second', '--cache-dir', cacheA]).trim());
      expect(first.password).not.toBe(second.password);
      expect(first.password).not.toBe(readFileSync(path.join(cacheA, 'secret'), 'utf8').trim());
      expect(statSync(path.join(cacheA, 'named', 'first', 'password')).mode & 0o777).toBe(0o600);
      expect(await query(first.href, 'select v from secrets')).toEqual([{ v: 'only-for-this-branch' }]);

      const intoSecond = new URL(first.href);
      intoSecond.port = second.port;
      await expect(query(intoSecond.href, 'select 1')).rejects.toThrow(/password authentication failed/);
      // The engine's (cache-wide) password no longer opens a named branch either.
      const withCachePassword = new URL(second.href);
      withCachePassword.password = encodeURIComponent(readFileSync(path.join(cacheA, 'secret'), 'utf8').trim());
      await expect(query(withCachePassword.href, 'select 1')).rejects.toThrow(/password authentication failed/);

      // From inside "first", its superuser runs psql as the server account against the sibling's socket: refused.
      const socketOfSecond = path.join(cacheA, 'named', 'second', 'run');
      const hop = `${PSQL} -w -X -At -h ${socketOfSecond} -p ${second.port} -U postgres -d postgres -c "select v from secrets"`;
      await expect(query(first.href, `copy secrets from program '${hop}'`)).rejects.toThrow(/exit code|failed/);

      // Reset clones the snapshot again (with the cache's password in it): the branch's own comes back.
      cli(['reset', 'second', '--cache-dir', cacheA]);
      expect(await query(second.href, 'select count(*)::int as n from secrets')).toEqual([{ n: 1 }]);
      await expect(query(withCachePassword.href, 'select 1')).rejects.toThrow(/password authentication failed/);
      cli(['rm', 'first', '--cache-dir', cacheA]);
      cli(['rm', 'second', '--cache-dir', cacheA]);
    });
  });

  describe('accounts of cache directories', () => {
    const kept = path.join(root, 'kept');
    const gone = path.join(root, 'gone');
    const next = path.join(root, 'next');
    const exists = (user: string) => spawnSync('id', ['-u', user]).status === 0;

    afterAll(async () => {
      await Promise.all([kept, gone, next].map((d) => freshCacheDir(d)));
    });

    it('are removed by `pgbranch gc --accounts` once their cache directory is gone, never while it exists', async () => {
      if (unavailable) throw new Error(`PGBRANCH_TEST_REQUIRE=all but ${unavailable}`);
      await Promise.all([kept, gone, next].map((d) => freshCacheDir(d)));
      for (const dir of [kept, gone]) await (await createEngine({ cacheDir: dir, driver: 'local' })).close();
      const [keptUser, goneUser] = [accountOf(kept).user, accountOf(gone).user];
      cli(['gc', '--cache-dir', gone]);
      expect(exists(goneUser)).toBe(true); // a plain gc never removes accounts
      await rm(gone, { recursive: true, force: true });
      // Nor does making another cache directory's account: other runs may be between wiping and remaking theirs.
      await (await createEngine({ cacheDir: next, driver: 'local' })).close();
      expect(exists(goneUser)).toBe(true);
      expect(cli(['gc', '--accounts', '--cache-dir', next])).toContain(`removed account ${goneUser}`);
      expect(exists(goneUser)).toBe(false);
      expect(exists(keptUser)).toBe(true);
      // The cache directory that still exists finds its account again, with the recorded uid.
      const engine = await createEngine({ cacheDir: kept, driver: 'local' });
      await engine.close();
      expect(engine.info().serverUser).toBe(keptUser);
    });
  });

  describe('a cache directory whose servers ran as nobody', () => {
    const upgraded = path.join(root, 'upgraded');
    afterAll(() => freshCacheDir(upgraded));

    it('is handed over to its own account once, and its snapshots still branch', async () => {
      if (unavailable) throw new Error(`PGBRANCH_TEST_REQUIRE=all but ${unavailable}`);
      await freshCacheDir(upgraded);
      mkdirSync(root, { recursive: true });
      writeFileSync(path.join(root, 'upgrade.sql'), "create table kept (v text); insert into kept values ('from-before');\n");
      const before = await createEngine({ cacheDir: upgraded, driver: 'local', cloner: 'copy', postgres: { user: 'nobody' } });
      const snap = await before.snapshot({ name: 'kept', sql: [path.join(root, 'upgrade.sql')] });
      await before.close();
      expect(statSync(path.join(upgraded, 'snapshots', snap.hash, 'data')).uid).toBe(65534);

      const after = await createEngine({ cacheDir: upgraded, driver: 'local', cloner: 'copy' });
      try {
        const account = accountOf(upgraded);
        expect(statSync(path.join(upgraded, 'snapshots', snap.hash, 'data')).uid).toBe(account.uid);
        const branch = await (await after.snapshot({ name: 'kept', sql: [path.join(root, 'upgrade.sql')] })).branch();
        expect(uidOf(branch.pid!)).toBe(account.uid);
        expect(await query(branch.url, 'select v from kept')).toEqual([{ v: 'from-before' }]);
      } finally {
        await after.close();
      }
    });
  });

  describe('paths another user can plant', () => {
    // Long enough that `<cache>/named/<name>/run` cannot hold a socket: the socket directory goes elsewhere.
    const longCache = path.join(root, `long-${'c'.repeat(60)}`);
    const sharedTmp = path.join(root, 'world-writable-tmp');
    const victim = path.join(root, 'victim');

    beforeAll(async () => {
      if (unavailable) throw new Error(`PGBRANCH_TEST_REQUIRE=all but ${unavailable}`);
      ensureIntruder();
      await freshCacheDir(longCache);
      await rm(sharedTmp, { recursive: true, force: true });
      await rm(victim, { recursive: true, force: true });
      mkdirSync(sharedTmp, { recursive: true });
      chmodSync(sharedTmp, 0o1777); // like /tmp
      mkdirSync(victim, { mode: 0o755 });
      chmodSync(victim, 0o755);
      writeFileSync(path.join(root, 'recipe.sql'), "create table secrets (v text); insert into secrets values ('only-for-this-branch');\n");
    });

    afterAll(async () => {
      await freshCacheDir(longCache);
      await rm(root, { recursive: true, force: true });
    });

    it('never follows a symlink planted where a socket directory used to go, and keeps sockets in a private directory', async () => {
      // Where the socket directory of a named branch of this cache used to be: predictable by anyone.
      const cacheKey = createHash('sha1').update(longCache).digest('hex').slice(0, 8);
      const planted = path.join(sharedTmp, `pgbranch-named-${cacheKey}-app`);
      const plant = runAs(INTRUDER, 'ln', ['-s', victim, planted]);
      expect(plant.status, plant.output).toBe(0);

      const env = { TMPDIR: sharedTmp };
      cli(['create', 'app', '--sql', path.join(root, 'recipe.sql'), '--cache-dir', longCache], env);
      const untouched = () => {
        const st = statSync(victim);
        return { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 };
      };
      expect(untouched()).toEqual({ uid: 0, gid: 0, mode: 0o755 });
      const url = cli(['url', 'app', '--cache-dir', longCache], env).trim();
      expect(await query(url, 'select v from secrets')).toEqual([{ v: 'only-for-this-branch' }]);
      // Its sockets live in a directory made by mkdtemp, owned by root, writable by no one else.
      const home = (JSON.parse(readFileSync(path.join(longCache, 'named', 'app', 'branch.json'), 'utf8')) as { socketHome: string }).socketHome;
      expect(path.basename(home)).toMatch(/^pgbranch-[A-Za-z0-9]{6}$/);
      expect(home).not.toBe(planted);
      const st = statSync(home);
      expect({ uid: st.uid, mode: st.mode & 0o7777 }).toEqual({ uid: 0, mode: 0o711 });
      expect(runAs(INTRUDER, 'ln', ['-s', victim, path.join(home, 'elsewhere')]).status).not.toBe(0);
      cli(['rm', 'app', '--cache-dir', longCache], env);
      expect(existsSync(home)).toBe(false);

      expect(untouched()).toEqual({ uid: 0, gid: 0, mode: 0o755 });
    });

    it('does not reuse a recorded socket directory that another user controls', async () => {
      const foreign = path.join(sharedTmp, 'intruders-dir');
      expect(runAs(INTRUDER, 'mkdir', ['-m', '0777', foreign]).status).toBe(0);
      cli(['create', 'other', '--sql', path.join(root, 'recipe.sql'), '--suspended', '--cache-dir', longCache], { TMPDIR: sharedTmp });
      const record = path.join(longCache, 'named', 'other', 'branch.json');
      writeFileSync(record, JSON.stringify({ ...JSON.parse(readFileSync(record, 'utf8')), socketHome: foreign }));
      cli(['resume', 'other', '--cache-dir', longCache], { TMPDIR: sharedTmp });
      const home = (JSON.parse(readFileSync(record, 'utf8')) as { socketHome: string }).socketHome;
      expect(home).not.toBe(foreign);
      expect(statSync(home).uid).toBe(0);
      const untouched = statSync(foreign);
      expect({ uid: untouched.uid, mode: untouched.mode & 0o7777 }).toEqual({ uid: Number(spawnSync('id', ['-u', INTRUDER], { encoding: 'utf8' }).stdout), mode: 0o777 });
      const url = cli(['url', 'other', '--cache-dir', longCache]).trim();
      expect(await query(url, 'select v from secrets')).toEqual([{ v: 'only-for-this-branch' }]);
      cli(['rm', 'other', '--cache-dir', longCache]);
    });

    it('refuses a cache directory another user made in advance, and leaves it as it was', async () => {
      const planted = path.join(sharedTmp, 'pgbranch-cache');
      expect(runAs(INTRUDER, 'mkdir', ['-m', '0777', planted]).status).toBe(0);
      await expect(createEngine({ cacheDir: planted, driver: 'local' })).rejects.toMatchObject({ code: 'PGBRANCH_UNSAFE_PATH' });
      const st = statSync(planted);
      expect(st.mode & 0o7777).toBe(0o777);
      expect(existsSync(path.join(planted, 'secret'))).toBe(false);
    });

    it("keeps an engine's socket directories in a private directory of its own, removed when it closes", async () => {
      const engine = await createEngine({ cacheDir: longCache, driver: 'local' });
      let runDir: string;
      try {
        const snap = await engine.snapshot({ name: 'secrets', sql: [path.join(root, 'recipe.sql')] });
        const branch = await snap.branch();
        runDir = path.dirname(branch.socketDir!);
        const st = statSync(runDir);
        expect({ uid: st.uid, mode: st.mode & 0o7777 }).toEqual({ uid: 0, mode: 0o711 });
        const socketDir = statSync(branch.socketDir!);
        expect({ uid: socketDir.uid, mode: socketDir.mode & 0o7777 }).toEqual({ uid: accountOf(longCache).uid, mode: 0o700 });
        expect(await query(branch.url, 'select v from secrets')).toEqual([{ v: 'only-for-this-branch' }]);
      } finally {
        await engine.close();
      }
      expect(existsSync(runDir)).toBe(false);
    });
  });
}
