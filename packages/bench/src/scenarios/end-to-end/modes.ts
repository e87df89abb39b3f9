import path from 'node:path';
import type { BenchContext } from '../../types.js';

/** One way of giving the suite's files a database. */
export interface Mode {
  /** Unique within the scenario: cache directory name and results key. */
  key: string;
  /** BENCH_E2E_MODE of bench/projects/e2e (see its db.ts). */
  id: string;
  label: string;
  /** Seconds per file: run in the main suite shape only, and warmed up on a few files. */
  slow?: boolean;
  docker?: boolean;
  /** Where its pgbranch cache (or shared server's data) lives; removed after the scenario. */
  cacheDir?: string;
  /** BENCH_E2E_CLONER: the cloner its engine uses. */
  cloner?: 'overlay' | 'reflink' | 'btrfs';
  note: string;
}

export const FLOOR = 'floor';
export const NONE = 'none';

/** Every mode this machine can run, and a note for each one it cannot. */
export function e2eModes(ctx: BenchContext): { modes: Mode[]; skipped: string[] } {
  const skipped: string[] = [];
  const work = (key: string) => path.join(ctx.workDir, `e2e-${key}`);
  const on = (dir: string | undefined, key: string) => (dir ? path.join(dir, `e2e-${key}`) : undefined);
  const root = process.getuid?.() === 0;
  const shared =
    'one PostgreSQL 18 server for the whole scenario (pgbranch\'s embedded binaries, password auth over TCP 127.0.0.1), started and migrated before any timed run, ' +
    'as a CI service database is, or pgtestdb and IntegreSQL keep their templates across runs: the runs pay only what each file does';
  const candidates: Array<Mode | { skip: string }> = [
    { key: NONE, id: 'none', label: 'no database', note: 'the same files, their database test skipped: vitest alone' },
    { key: FLOOR, id: 'floor', label: 'floor: shared database, transaction rolled back', cacheDir: work('floor'), note: `${shared}; each file works inside one transaction, rolled back in afterAll (no copy at all)` },
    ...(['wal-log', 'file-copy'] as const).map((s) => ({
      key: `template-${s}`,
      id: `template-${s}`,
      label: `template database, ${s === 'wal-log' ? 'WAL_LOG' : 'FILE_COPY'}`,
      cacheDir: work(`template-${s}`),
      note: `${shared} into database tpl; each file runs CREATE DATABASE f_<id> TEMPLATE tpl STRATEGY ${s === 'wal-log' ? 'WAL_LOG' : 'FILE_COPY'} on its own admin connection and drops it in afterAll (data directory on the work disk)`,
    })),
    ctx.reflinkDir
      ? {
          key: 'template-clone',
          id: 'template-clone',
          label: 'template database, FILE_COPY + clone',
          cacheDir: on(ctx.reflinkDir, 'template-clone'),
          cloner: 'reflink',
          note: `as FILE_COPY, with SET file_copy_method = clone (PostgreSQL 18) and the server's data directory on the reflink filesystem ${ctx.reflinkDir}`,
        }
      : { skip: 'template database, FILE_COPY + clone: skipped — no reflink filesystem (PGBRANCH_TEST_REFLINK_DIR)' },
    {
      key: 'testcontainers-shared',
      id: 'testcontainers-shared',
      label: 'Testcontainers, one container, TRUNCATE',
      docker: true,
      note: 'one GenericContainer for the run (globalSetup; same image and settings as the per-file one), migrations once, both inside each timed run as that set-up pays them on every run; files run serially (fileParallelism: false) and each TRUNCATEs every table before its work',
    },
    { key: 'testcontainers', id: 'testcontainers', label: 'Testcontainers, a container per file', docker: true, slow: true, note: 'each file starts GenericContainer (same image, host network, initdb + postgres with the same settings), runs the migrations, stops it in afterAll' },
    { key: 'pglite', id: 'pglite', label: 'PGlite, an instance per file', slow: true, note: 'each file makes new PGlite() (in memory, in the worker), runs the migrations, closes it in afterAll' },
    {
      key: 'pglite-clone',
      id: 'pglite-clone',
      label: 'PGlite clone() per file',
      slow: true,
      note: 'one migrated PGlite per worker process, each file works on `await base.clone()`; PGlite 0.5\'s clone() dumps the data directory and starts a new PGlite from the dump (a new WASM instance per file, migrations not repeated); vitest isolate: false, since with isolation vitest 4 starts a new process per file',
    },
    root
      ? { key: 'pgbranch-overlay', id: 'pgbranch-local', label: 'pgbranch local (overlay)', cloner: 'overlay', cacheDir: work('pgbranch-overlay'), note: '@pgbranch/vitest, local driver, cloner overlay, cache on the work disk, pool defaults; a branch per file' }
      : { skip: 'pgbranch local (overlay): skipped — overlay mounts need root' },
    ctx.reflinkDir
      ? { key: 'pgbranch-reflink', id: 'pgbranch-local', label: 'pgbranch local (reflink)', cloner: 'reflink', cacheDir: on(ctx.reflinkDir, 'pgbranch-reflink'), note: `@pgbranch/vitest, local driver, cloner reflink, cache in ${ctx.reflinkDir}` }
      : { skip: 'pgbranch local (reflink): skipped — no reflink filesystem (PGBRANCH_TEST_REFLINK_DIR)' },
    ctx.btrfsDir
      ? { key: 'pgbranch-btrfs', id: 'pgbranch-local', label: 'pgbranch local (btrfs)', cloner: 'btrfs', cacheDir: on(ctx.btrfsDir, 'pgbranch-btrfs'), note: `@pgbranch/vitest, local driver, cloner btrfs, cache in ${ctx.btrfsDir}` }
      : { skip: 'pgbranch local (btrfs): skipped — no btrfs filesystem (PGBRANCH_TEST_BTRFS_DIR)' },
    { key: 'pgbranch-docker', id: 'pgbranch-docker', label: 'pgbranch (docker)', docker: true, cacheDir: work('pgbranch-docker'), note: '@pgbranch/vitest, docker driver (host network, storage auto), pool defaults; a container branch per file' },
    {
      key: 'pgbranch-template',
      id: 'pgbranch-template',
      label: 'pgbranch (template driver)',
      cacheDir: ctx.reflinkDir ? on(ctx.reflinkDir, 'pgbranch-template') : work('pgbranch-template'),
      ...(ctx.reflinkDir ? { cloner: 'reflink' as const } : {}),
      note: `@pgbranch/vitest, template driver (a database per file in one server per snapshot), cache ${ctx.reflinkDir ? `in ${ctx.reflinkDir}, so FILE_COPY clones` : 'on the work disk (no reflink filesystem: FILE_COPY copies)'}`,
    },
  ];
  const modes: Mode[] = [];
  for (const c of candidates) {
    if ('skip' in c) skipped.push(c.skip);
    else if (c.docker && !ctx.docker.available) skipped.push(`${c.label}: not available — ${ctx.docker.reason}`);
    else modes.push(c);
  }
  return { modes, skipped };
}
