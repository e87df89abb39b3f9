import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, statfsSync } from 'node:fs';
import { lstat, mkdir, open, readFile, readdir, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { clonerRoot, requireAll } from '../../../../test/support/targets.js';
import { resolveRunAs, type RunAs } from '../system/run-as.js';
import { ReflinkCloner } from './reflink-cloner.js';

const root = clonerRoot('reflink');
const XFS_MAGIC = 0x58465342;

function hasXfsIo(): boolean {
  try {
    execFileSync('xfs_io', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why the XFS-only test cannot run here, or undefined. */
function xfsUnavailable(): string | undefined {
  if (root.unavailable) return root.unavailable;
  if (statfsSync(root.path).type !== XFS_MAGIC) return `${root.path} is not XFS (the copy-on-write extent size hint is an XFS setting)`;
  if (!hasXfsIo()) return 'xfs_io is missing (apt-get install xfsprogs)';
  return undefined;
}

/** Byte ranges of a file's extents shared with another file, from `filefrag -v` (works on XFS and btrfs). */
function sharedExtents(file: string): number {
  return execFileSync('filefrag', ['-v', file], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => /^\s*\d+:/.test(line) && /\bshared\b/.test(line)).length;
}

/** The copy-on-write extent size hint of a file or directory on XFS, in bytes (0: none). */
function cowExtentSize(file: string): number {
  const out = execFileSync('xfs_io', ['-c', 'cowextsize', file], { encoding: 'utf8' });
  return Number(/\[(\d+)\]/.exec(out)?.[1] ?? Number.NaN);
}

/** Everything below `dir`: relative path → kind, mode, owner, content or link target. */
async function describeTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const visit = async (rel: string): Promise<void> => {
    for (const name of await readdir(path.join(dir, rel))) {
      const relPath = path.join(rel, name);
      const full = path.join(dir, relPath);
      const st = await lstat(full);
      const owner = `${st.uid}:${st.gid} ${(st.mode & 0o7777).toString(8)}`;
      if (st.isSymbolicLink()) out[relPath] = `link ${await readlink(full)} ${st.uid}:${st.gid}`;
      else if (st.isDirectory()) {
        out[relPath] = `dir ${owner}`;
        await visit(relPath);
      } else out[relPath] = `file ${owner} ${st.size} ${(await readFile(full)).toString('base64').slice(0, 24)}`;
    }
  };
  await visit('');
  return out;
}

const describeReflink = root.unavailable && !requireAll() ? describe.skip : describe;

describeReflink(`reflink cloner${root.unavailable ? ` (skipped: ${root.unavailable})` : ''}`, () => {
  const base = path.join(root.path, 'pgbranch-test', 'reflink-cloner', String(process.pid));
  // Root hands servers to an unprivileged user: the clone must belong to that user, as Postgres checks.
  const isRoot = process.getuid?.() === 0;
  let runAs: RunAs;

  beforeAll(async () => {
    if (root.unavailable) throw new Error(root.unavailable);
    runAs = resolveRunAs(isRoot ? 'nobody' : undefined);
    await mkdir(base, { recursive: true });
  });
  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('clones a data directory: files (empty ones too), symlinks, modes and the server user as owner, sharing extents', async () => {
    const source = path.join(base, 'tree-source');
    await mkdir(path.join(source, 'base', '5'), { recursive: true, mode: 0o700 });
    await mkdir(path.join(source, 'global'), { mode: 0o700 });
    await mkdir(path.join(source, 'pg_stat_tmp'), { mode: 0o700 });
    await writeFile(path.join(source, 'PG_VERSION'), '18\n', { mode: 0o600 });
    await writeFile(path.join(source, 'base', '5', '16384'), randomBytes(256 * 1024), { mode: 0o600 });
    await writeFile(path.join(source, 'base', '5', '16390'), '', { mode: 0o600 });
    await writeFile(path.join(source, 'global', 'pg_control'), randomBytes(8192), { mode: 0o640 });
    await symlink('../base', path.join(source, 'global', 'base-link'));
    execFileSync('sync', ['-f', source]);
    for (const rel of ['', 'base', 'base/5', 'global', 'pg_stat_tmp']) chmodSync(path.join(source, rel), 0o700);
    if (runAs.dropped) execFileSync('chown', ['-R', '-h', `${runAs.uid}:${runAs.gid}`, source]);

    const target = path.join(base, 'tree-clone');
    await new ReflinkCloner().clone(source, target, runAs);

    expect(await describeTree(target)).toEqual(await describeTree(source));
    const top = await stat(target);
    expect([top.uid, top.gid, top.mode & 0o777]).toEqual([runAs.uid, runAs.gid, 0o700]);
    // Shared extents prove a reflink, not a copy of the bytes.
    expect(sharedExtents(path.join(target, 'base', '5', '16384'))).toBeGreaterThan(0);
    await rm(target, { recursive: true });
    await rm(source, { recursive: true });
  });

  const noXfs = root.unavailable ? undefined : xfsUnavailable();
  it.skipIf(noXfs !== undefined && !requireAll())(
    `on XFS, writing one page of a clone takes one page of space, not a 128 KiB copy-on-write extent${noXfs ? ` (skipped: ${noXfs})` : ''}`,
    async () => {
      if (noXfs) throw new Error(noXfs);
      // A source made without any hint, as snapshots made by earlier versions are.
      const source = path.join(base, 'hint-source');
      await mkdir(source, { mode: 0o700 });
      const size = 4 << 20;
      await writeFile(path.join(source, '16384'), randomBytes(size), { mode: 0o600 });
      execFileSync('sync', ['-f', source]);
      // A tablespace link points out of the tree: what it points at is not the cloner's to change.
      const outside = path.join(base, 'hint-outside');
      await mkdir(outside, { mode: 0o700 });
      await writeFile(path.join(outside, '16500'), randomBytes(8192));
      await mkdir(path.join(source, 'pg_tblspc'), { mode: 0o700 });
      await symlink(outside, path.join(source, 'pg_tblspc', '16500'));
      await symlink(path.join(outside, '16500'), path.join(source, 'pg_tblspc', 'file-link'));
      if (runAs.dropped) execFileSync('chown', ['-R', '-h', `${runAs.uid}:${runAs.gid}`, source]);

      const target = path.join(base, 'hint-clone');
      await new ReflinkCloner().clone(source, target, runAs);
      const file = path.join(target, '16384');
      const handle = await open(file, 'r+');
      await handle.write(Buffer.alloc(8192, 0x41), 0, 8192, 1 << 20);
      await handle.sync();
      await handle.close();
      // Blocks the file holds beyond its size are the unwritten rest of its copy-on-write extent.
      const held = (await stat(file)).blocks * 512;
      expect(held - size).toBeLessThanOrEqual(0);
      expect(sharedExtents(file)).toBeGreaterThan(0);
      expect(cowExtentSize(outside)).toBe(0);
      expect(cowExtentSize(path.join(outside, '16500'))).toBe(0);
      await rm(outside, { recursive: true });
      await rm(target, { recursive: true });
      await rm(source, { recursive: true });
    },
  );

  it.skipIf(noXfs !== undefined && !requireAll())(
    `without xfs_io, clones are made all the same (with the default copy-on-write extent size)${noXfs ? ` (skipped: ${noXfs})` : ''}`,
    async () => {
      if (noXfs) throw new Error(noXfs);
      const source = path.join(base, 'no-xfs-io-source');
      await mkdir(source, { mode: 0o700 });
      await writeFile(path.join(source, '1259'), randomBytes(64 * 1024), { mode: 0o600 });
      if (runAs.dropped) execFileSync('chown', ['-R', `${runAs.uid}:${runAs.gid}`, source]);
      // A PATH with cp and nothing else, and a fresh module, so that xfs_io is looked up and not found.
      const bin = path.join(base, 'bin-without-xfs-io');
      await mkdir(bin);
      await symlink(execFileSync('sh', ['-c', 'command -v cp'], { encoding: 'utf8' }).trim(), path.join(bin, 'cp'));
      const savedPath = process.env.PATH;
      process.env.PATH = bin;
      try {
        vi.resetModules();
        const { ReflinkCloner: FreshCloner } = await import('./reflink-cloner.js');
        await new FreshCloner().clone(source, path.join(base, 'no-xfs-io-clone'), runAs);
      } finally {
        process.env.PATH = savedPath;
      }
      const target = path.join(base, 'no-xfs-io-clone');
      expect(await readFile(path.join(target, '1259'))).toEqual(await readFile(path.join(source, '1259')));
      expect(cowExtentSize(path.join(target, '1259'))).toBe(0);
      await rm(target, { recursive: true });
      await rm(source, { recursive: true });
    },
  );
});
