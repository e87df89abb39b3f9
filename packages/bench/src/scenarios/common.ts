import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { createEngine, type Branch, type ClonerName, type Engine, type EngineOptions, type Snapshot } from '@pgbranch/core';
import type { MicroTask } from '../micro.js';
import type { BenchContext } from '../types.js';

/** One place to run pgbranch: a driver, a cloner or storage, and a cache directory on a filesystem where it works. */
export interface Target {
  label: string;
  options: EngineOptions;
}

/** Every target this machine offers: local cloners on their filesystems, then Docker storages. */
export function targets(ctx: BenchContext, which: { docker?: boolean } = {}): Array<Target & { unavailable?: string }> {
  const local = (cloner: ClonerName, dir: string | undefined, why: string): Target & { unavailable?: string } => ({
    label: `pgbranch local ${cloner}`,
    options: { cacheDir: dir ? path.join(dir, `bench-${cloner}`) : '', cloner },
    unavailable: dir ? undefined : why,
  });
  const root = process.getuid?.() === 0;
  const list = [
    local('btrfs', ctx.btrfsDir, 'no btrfs filesystem (PGBRANCH_TEST_BTRFS_DIR)'),
    local('reflink', ctx.reflinkDir, 'no reflink filesystem (PGBRANCH_TEST_REFLINK_DIR)'),
    local('overlay', root ? ctx.workDir : undefined, 'overlay mounts need root'),
    local('copy', ctx.workDir, ''),
  ];
  if (which.docker) {
    const docker = (label: string, dir: string | undefined, storage: 'image' | 'bind', why?: string) => ({
      label,
      options: { cacheDir: dir ? path.join(dir, `bench-docker-${storage}`) : '', driver: 'docker' as const, docker: { image: ctx.docker.image, network: 'host' as const, storage } },
      unavailable: !ctx.docker.available ? ctx.docker.reason : dir ? undefined : why,
    });
    list.push(docker('pgbranch docker (image layers)', ctx.workDir, 'image'));
    list.push(docker('pgbranch docker (bind, btrfs clone)', ctx.btrfsDir, 'bind', 'no btrfs filesystem (PGBRANCH_TEST_BTRFS_DIR)'));
  }
  return list;
}

/** The targets this machine offers; each one it does not is noted in `notes` with the reason. */
export function usableTargets(ctx: BenchContext, notes: string[], which: { docker?: boolean } = {}): Target[] {
  return targets(ctx, which).filter((target) => {
    if (target.unavailable) notes.push(`${target.label}: not available — ${target.unavailable}`);
    return !target.unavailable;
  });
}

/** An engine for a target, closed after `fn`. */
export async function withEngine<T>(target: Target, fn: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = await createEngine(target.options);
  try {
    return await fn(engine);
  } finally {
    await engine.close();
  }
}

/** The sync-store fixture recipe (70 MB snapshot). */
export function fixture(ctx: BenchContext): string[] {
  return [path.join(ctx.root, 'fixtures/recipes/sync-store')];
}

/** Rows of the generated bulk table per megabyte: ~870 bytes per row on disk (768 characters of payload + tuple overhead). */
export const ROWS_PER_MB = 1150;

/** A generated recipe of about `mb` megabytes of table data (written to the work dir, not committed). */
export async function bulkRecipe(ctx: BenchContext, mb: number): Promise<string[]> {
  const dir = path.join(ctx.workDir, 'recipes', `bulk-${mb}mb`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const rows = Math.round(mb * ROWS_PER_MB);
  await writeFile(
    path.join(dir, '001_bulk.sql'),
    `create table bulk (id bigint primary key, payload text not null);\ninsert into bulk select g, repeat(md5(g::text), 24) from generate_series(1, ${rows}) g;\n`,
  );
  return [dir];
}

/** Opens a connection, runs `sql`, closes; returns nothing (timing is the caller's). */
export async function query(url: string, sql = 'select 1'): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined); // a server that dies fails the query (and the scenario), not the run
  await client.connect();
  await client.query(sql);
  await client.end();
}

/** Cold branch creation as a timed task: branch() + connect + first query; the branch is destroyed after the clock stops. */
export function branchCreationTask(name: string, snap: Snapshot): MicroTask {
  let branch: Branch | undefined;
  return {
    name,
    fn: async () => {
      branch = await snap.branch();
      await query(branch.url);
    },
    afterEach: async () => {
      await branch?.destroy();
      branch = undefined;
    },
  };
}

/** Measured iterations reported as "<task> i/n" on the progress line. */
export function progressOf(ctx: BenchContext): (task: string, done: number, total: number) => void {
  return (task, done, total) => ctx.progress(`${task} ${done}/${total}`);
}
