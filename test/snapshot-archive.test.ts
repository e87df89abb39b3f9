import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type EngineOptions, type SnapshotRecipe } from '@pgbranch/core';
import { readSnapshotArchive } from '../packages/core/dist/snapshot/snapshot-archive-reader.js';
import { writeSnapshotArchive } from '../packages/core/dist/snapshot/snapshot-archive.js';
import { containersOf } from './support/docker.js';
import { query } from './support/pg.js';
import { cli, freshCacheDir, postgresProcessesUnder, repoRoot } from './support/processes.js';
import { suiteTarget } from './support/suite-target.js';
import { requireAll } from './support/targets.js';

const RECIPE = path.join(repoRoot, 'fixtures/recipes/relay-store');
const WORK = path.join(os.tmpdir(), 'pgbranch-test', 'snapshot-archive');

/**
 * A recipe whose data differs on every seeding (a random token) while its hash does not (init's source is hashed):
 * a cache directory that shows the token of another one got its snapshot from there, not by seeding it.
 */
const RELAY: SnapshotRecipe = {
  name: 'relay',
  sql: [RECIPE],
  hashInputs: [],
  init: async (url: string) => {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('create table origin as select md5(random()::text) as token');
    await client.end();
  },
};

/** Snapshot directories and build leftovers in a cache directory (only complete snapshots may be there). */
function snapshotEntries(cacheDir: string): string[] {
  const dir = path.join(cacheDir, 'snapshots');
  return existsSync(dir) ? readdirSync(dir) : [];
}

const secretOf = (cacheDir: string) => readFile(path.join(cacheDir, 'secret'), 'utf8').then((s) => s.trim());

const targets = [
  suiteTarget({ driver: 'local', cloner: 'copy' }),
  suiteTarget({ driver: 'docker', docker: { storage: 'image' } }),
  suiteTarget({ driver: 'docker', docker: { storage: 'bind' } }),
];

for (const target of targets) {
  const skip = target.unavailable && !requireAll();
  describe.skipIf(skip)(`portable snapshots, ${target.label}${skip ? ` (skipped: ${target.unavailable})` : ''}`, () => {
    const dirA = target.cacheDir('archive-a');
    const dirB = target.cacheDir('archive-b');
    const file = path.join(WORK, `${target.label.replace(/\W+/g, '-')}.tgz`);
    const open = (cacheDir: string): Promise<Engine> => createEngine({ ...target.options, cacheDir } as EngineOptions);
    let a: Engine;
    let b: Engine;
    let hash: string;
    let token: string;

    beforeAll(async () => {
      expect(target.unavailable).toBeUndefined();
      await mkdir(WORK, { recursive: true });
      await freshCacheDir(dirA);
      await freshCacheDir(dirB);
      a = await open(dirA);
      b = await open(dirB);
      const snap = await a.snapshot(RELAY);
      hash = snap.hash;
      await using branch = await snap.branch();
      token = (await query<{ token: string }>(branch.url, 'select token from origin'))[0]!.token;
    });
    afterAll(async () => {
      await a?.close();
      await b?.close();
      for (const dir of [dirA, dirB]) {
        await freshCacheDir(dir);
        expect(postgresProcessesUnder(dir)).toEqual([]);
        if (target.options.driver === 'docker') expect(containersOf(dir)).toEqual([]);
      }
      await rm(file, { force: true });
    });

    it('exports a seeded snapshot, and another cache directory (another password) imports it and finds it by hash without seeding', async () => {
      expect(await b.snapshotHash(RELAY)).toBe(hash);
      const exported = await a.exportSnapshot('relay', createWriteStream(file));
      expect(exported.hash).toBe(hash);
      const imported = await b.importSnapshot(createReadStream(file), file);
      expect(imported).toMatchObject({ hash, origin: 'archive', name: 'relay' });

      const found = await b.snapshot(RELAY);
      expect(found).toMatchObject({ hash, origin: 'cache' });
      await using branch = await found.branch();
      expect(await query(branch.url, 'select token from origin')).toEqual([{ token }]);
      expect(await query(branch.url, 'select count(*)::int > 0 as seeded from relay.accounts')).toEqual([{ seeded: true }]);
      // The branch takes B's password, and no longer A's.
      expect(new URL(branch.url).password).toBe(encodeURIComponent(await secretOf(dirB)));
      const withA = new URL(branch.url);
      withA.password = encodeURIComponent(await secretOf(dirA));
      await expect(query(withA.toString(), 'select 1')).rejects.toThrow(/password authentication failed/);
      // Imported again: found stored, nothing read.
      expect(await b.importSnapshot(createReadStream(file), file)).toMatchObject({ hash, origin: 'cache' });
    });
  });
}

describe('portable snapshots: the CLI, damaged archives and other builds (local driver)', () => {
  const dirs = { a: path.join(WORK, 'cli-a'), b: path.join(WORK, 'cli-b'), c: path.join(WORK, 'cli-c'), t: path.join(WORK, 'cli-t') };
  const file = path.join(WORK, 'cli.tgz');
  const run = (args: string[], input?: Buffer) => spawnSync(process.execPath, [path.join(repoRoot, 'packages/core/dist/cli/main.js'), ...args], { input, maxBuffer: 1 << 30 });
  let hash: string;

  beforeAll(async () => {
    await mkdir(WORK, { recursive: true });
    for (const dir of Object.values(dirs)) await freshCacheDir(dir);
    hash = (JSON.parse(cli(['snapshot', 'relay', '--sql', RECIPE, '--cache-dir', dirs.a, '--driver', 'local', '--json'])) as { hash: string }).hash;
    cli(['snapshot', 'export', 'relay', '-o', file, '--cache-dir', dirs.a, '--driver', 'local']);
  });
  afterAll(async () => {
    for (const dir of Object.values(dirs)) {
      await freshCacheDir(dir);
      expect(postgresProcessesUnder(dir)).toEqual([]);
    }
    await rm(file, { force: true });
  });

  it('--print-hash prints the hash the snapshot is built under, and builds nothing', () => {
    expect(cli(['snapshot', 'relay', '--sql', RECIPE, '--cache-dir', dirs.c, '--driver', 'local', '--print-hash'])).toBe(`${hash}\n`);
    expect(snapshotEntries(dirs.c)).toEqual([]);
  });

  it('exports to a file (replacing it whole) and imports it in another cache directory, which then reuses it', async () => {
    expect(cli(['snapshot', 'export', 'relay', '-o', file, '--cache-dir', dirs.a, '--driver', 'local'])).toMatch(new RegExp(`exported snapshot relay ${hash} to `));
    expect(readdirSync(WORK).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(cli(['snapshot', 'import', file, '--cache-dir', dirs.b, '--driver', 'local'])).toMatch(new RegExp(`snapshot relay ${hash} imported`));
    expect(cli(['snapshot', 'relay', '--sql', RECIPE, '--cache-dir', dirs.b, '--driver', 'local'])).toMatch(/\(reused from the cache\)/);
  });

  it('writes to stdout with -o - and reads stdin with -', () => {
    const out = run(['snapshot', 'export', hash.slice(0, 10), '-o', '-', '--cache-dir', dirs.a, '--driver', 'local']);
    expect(out.status).toBe(0);
    expect(out.stdout.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b])); // gzip
    const imported = run(['snapshot', 'import', '-', '--cache-dir', dirs.c, '--driver', 'local', '--json'], out.stdout);
    expect(JSON.parse(imported.stdout.toString())).toMatchObject({ hash, reused: false });
  });

  it('a template driver finds and branches what the local driver imported', async () => {
    cli(['snapshot', 'import', file, '--cache-dir', dirs.t, '--driver', 'local']);
    await using engine = await createEngine({ cacheDir: dirs.t, driver: 'template' });
    const snap = await engine.snapshot({ name: 'relay', sql: [RECIPE] });
    expect(snap).toMatchObject({ hash, origin: 'cache' });
    await using branch = await snap.branch();
    expect(await query(branch.url, 'select count(*)::int > 0 as seeded from relay.accounts')).toEqual([{ seeded: true }]);
  });

  it('refuses a flipped byte and a truncated file, naming the file, and stores nothing', async () => {
    const size = (await stat(file)).size;
    const flipped = path.join(WORK, 'flipped.tgz');
    await copyFile(file, flipped);
    const bytes = await readFile(flipped);
    bytes[Math.floor(size / 2)] ^= 0xff;
    await writeFile(flipped, bytes);
    const truncated = path.join(WORK, 'truncated.tgz');
    await copyFile(file, truncated);
    await truncate(truncated, Math.floor(size * 0.6));
    const fresh = path.join(WORK, 'cli-damaged');
    await freshCacheDir(fresh);
    try {
      for (const damaged of [flipped, truncated]) {
        const result = run(['snapshot', 'import', damaged, '--cache-dir', fresh, '--driver', 'local']);
        expect(result.status).toBe(1);
        expect(result.stderr.toString()).toMatch(new RegExp(`${damaged} is damaged: .*export the snapshot again.*\\[PGBRANCH_ARCHIVE_CORRUPT\\]`));
        expect(snapshotEntries(fresh)).toEqual([]);
      }
    } finally {
      await freshCacheDir(fresh);
      await rm(flipped, { force: true });
      await rm(truncated, { force: true });
    }
  });

  it('names a missing file, a file that is no archive, and a name no snapshot has', async () => {
    const missing = run(['snapshot', 'import', path.join(WORK, 'nope.tgz'), '--cache-dir', dirs.c]);
    expect(missing.stderr.toString()).toMatch(/No snapshot archive at .*nope\.tgz.*\[PGBRANCH_ARCHIVE_NOT_FOUND\]/);
    const text = path.join(WORK, 'not-an-archive.tgz');
    await writeFile(text, 'hello\n');
    const foreign = run(['snapshot', 'import', text, '--cache-dir', dirs.c, '--driver', 'local']);
    expect(foreign.stderr.toString()).toMatch(/not-an-archive\.tgz is not a pgbranch snapshot archive: it is not gzip'd.*\[PGBRANCH_ARCHIVE_INVALID\]/);
    await rm(text);
    const unknown = run(['snapshot', 'export', 'nosuch', '-o', path.join(WORK, 'x.tgz'), '--cache-dir', dirs.a, '--driver', 'local']);
    expect(unknown.stderr.toString()).toMatch(/No snapshot called "nosuch".*stored: relay \(.*\[PGBRANCH_SNAPSHOT_NOT_FOUND\]/);
    expect(existsSync(path.join(WORK, 'x.tgz'))).toBe(false);
    expect(readdirSync(WORK).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses an archive of another Postgres build, naming both builds', async () => {
    const other = path.join(WORK, 'other-build.tgz');
    const archive = readSnapshotArchive(createReadStream(file), file);
    const manifest = await archive.manifest;
    await writeSnapshotArchive({ ...manifest, identity: 'postgres 18.0 built elsewhere', postgresVersion: '18.0' }, archive.data, createWriteStream(other));
    await archive.verified;
    const fresh = path.join(WORK, 'cli-other');
    await freshCacheDir(fresh);
    try {
      const result = run(['snapshot', 'import', other, '--cache-dir', fresh, '--driver', 'local']);
      expect(result.status).toBe(1);
      expect(result.stderr.toString()).toMatch(/built by another Postgres build \(PostgreSQL 18\.0, postgres 18\.0 built elsewhere\) than the local driver runs here \(PostgreSQL 18\.\d+, .*Seed the snapshot here instead.*\[PGBRANCH_SNAPSHOT_INCOMPATIBLE\]/);
      expect(snapshotEntries(fresh)).toEqual([]);
    } finally {
      await freshCacheDir(fresh);
      await rm(other, { force: true });
    }
  });

  it('builds a snapshot named "export" with --sql, and exports it by that name', async () => {
    expect(cli(['snapshot', 'export', '--sql', RECIPE, '--cache-dir', dirs.a, '--driver', 'local'])).toMatch(new RegExp(`snapshot export ${hash} `));
    const named = path.join(WORK, 'export.tgz');
    expect(cli(['snapshot', 'export', 'export', '-o', named, '--cache-dir', dirs.a, '--driver', 'local'])).toMatch(new RegExp(`exported snapshot .* ${hash} `));
    await rm(named);
  });
});
