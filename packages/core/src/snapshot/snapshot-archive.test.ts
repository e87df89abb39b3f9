import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { pack, type Headers } from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveRunAs } from '../system/run-as.js';
import { extractDataDir, packDataDir } from './data-dir-tar.js';
import { readSnapshotArchive } from './snapshot-archive-reader.js';
import { DIGEST_ENTRY, MANIFEST_ENTRY, writeSnapshotArchive, type SnapshotManifest } from './snapshot-archive.js';

const MANIFEST: SnapshotManifest = {
  format: 1,
  name: 'app',
  hash: 'a'.repeat(24),
  kind: 'recipe',
  parent: 'b'.repeat(24),
  files: ['db/schema.sql'],
  createdAt: '2026-01-01T00:00:00.000Z',
  postgresVersion: '18.4',
  identity: 'postgres 18.4 build x',
  sizeBytes: 3,
};

const roots: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pgbranch-archive-'));
  roots.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of roots) await rm(dir, { recursive: true, force: true });
});

/** The tar bytes of entries, with or without tar's end-of-archive blocks. */
async function tarOf(entries: Array<[Headers, string?]>, end: boolean): Promise<Buffer> {
  const archive = pack();
  for (const [header, content] of entries) archive.entry(header, content ?? '');
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  const all = Buffer.concat(chunks);
  return end ? all : all.subarray(0, all.length - 1024);
}

/** A hand-made archive: the manifest, `entries`, then a digest entry (right, wrong or none) and maybe more. */
async function crafted(entries: Array<[Headers, string?]>, options: { digest?: 'right' | 'wrong' | 'none'; manifest?: object; after?: Array<[Headers, string?]> } = {}): Promise<Readable> {
  const body = await tarOf([[{ name: MANIFEST_ENTRY }, JSON.stringify(options.manifest ?? MANIFEST)], ...entries], false);
  const digest = options.digest === 'wrong' ? '0'.repeat(64) : createHash('sha256').update(body).digest('hex');
  const trailer = options.digest === 'none' ? [] : ([[{ name: DIGEST_ENTRY }, `${digest}\n`]] as Array<[Headers, string?]>);
  return Readable.from([gzipSync(Buffer.concat([body, await tarOf([...trailer, ...(options.after ?? [])], true)]))]);
}

/** Reads an archive the way an importer does: manifest, then the data extracted into a new directory. */
async function importInto(input: Readable): Promise<{ dir: string; manifest: SnapshotManifest }> {
  const archive = readSnapshotArchive(input, 'test.tgz');
  const manifest = await archive.manifest;
  const dir = path.join(await tempDir(), 'data');
  await mkdir(dir);
  await Promise.all([extractDataDir(archive.data, dir, resolveRunAs()).catch(() => undefined), archive.verified]);
  return { dir, manifest };
}

const dataDir: Array<[Headers, string?]> = [
  [{ name: 'data/', type: 'directory', mode: 0o700 }],
  [{ name: 'data/PG_VERSION', mode: 0o600 }, '18\n'],
];

describe('snapshot archives', () => {
  it('read back what was written: manifest, files, directories, symlinks and modes', async () => {
    const source = path.join(await tempDir(), 'data');
    await mkdir(path.join(source, 'base/5'), { recursive: true, mode: 0o700 });
    await writeFile(path.join(source, 'PG_VERSION'), '18\n', { mode: 0o600 });
    await writeFile(path.join(source, 'base/5/1259'), Buffer.alloc(200_000, 7), { mode: 0o640 });
    await symlink('base/5', path.join(source, 'link'));
    const file = new PassThrough();
    const written = writeSnapshotArchive(MANIFEST, packDataDir(source), file);
    const { dir, manifest } = await importInto(file);
    await written;
    expect(manifest).toEqual(MANIFEST);
    expect((await readdir(dir)).sort()).toEqual(['PG_VERSION', 'base', 'link']);
    expect(await readFile(path.join(dir, 'base/5/1259'))).toEqual(Buffer.alloc(200_000, 7));
    expect((await stat(path.join(dir, 'base/5/1259'))).mode & 0o777).toBe(0o640);
    expect((await stat(path.join(dir, 'base'))).mode & 0o777).toBe(0o700);
    expect(await readlink(path.join(dir, 'link'))).toBe('base/5');
  });

  it('accepts a hand-made archive with the right digest (the digest covers the tar bytes before its entry)', async () => {
    const { dir } = await importInto(await crafted(dataDir));
    expect(await readFile(path.join(dir, 'PG_VERSION'), 'utf8')).toBe('18\n');
  });

  it.each([
    ['a wrong digest', { digest: 'wrong' as const }, /test\.tgz is damaged: its contents do not match its sha256 digest/],
    ['no digest entry', { digest: 'none' as const }, /test\.tgz is damaged: it ends without its pgbranch-snapshot\.sha256 entry/],
    ['an entry after the digest', { after: [[{ name: 'data/extra' }, 'x']] as Array<[Headers, string?]> }, /has an entry after its digest/],
  ])('refuses %s as damaged', async (_what, options, message) => {
    const archive = readSnapshotArchive(await crafted(dataDir, options), 'test.tgz');
    archive.data.resume();
    await expect(archive.verified).rejects.toMatchObject({ code: 'PGBRANCH_ARCHIVE_CORRUPT', message: expect.stringMatching(message) });
  });

  it.each([
    ['an entry outside data/', [{ name: 'etc/passwd' }, 'x'], /an entry outside data\//],
    ['a ".." path', [{ name: 'data/../../escape' }, 'x'], /with "\.\." in its path/],
    ['an absolute path', [{ name: '/tmp/escape' }, 'x'], /an entry outside data\//],
    ['a symlink out of data/', [{ name: 'data/link', type: 'symlink', linkname: '/etc' }], /a symlink that leads out of data\//],
    ['a symlink up and out', [{ name: 'data/link', type: 'symlink', linkname: '../..' }], /a symlink that leads out of data\//],
    ['a hard link', [{ name: 'data/hard', type: 'link', linkname: 'data/PG_VERSION' }], /an entry of type link/],
  ] as Array<[string, [Headers, string?], RegExp]>)('refuses %s, and writes nothing outside the target', async (_what, entry, message) => {
    const archive = readSnapshotArchive(await crafted([...dataDir, entry]), 'test.tgz');
    const target = path.join(await tempDir(), 'data');
    await mkdir(target);
    const extracted = extractDataDir(archive.data, target, resolveRunAs()).catch(() => undefined);
    await expect(archive.verified).rejects.toMatchObject({ code: 'PGBRANCH_ARCHIVE_INVALID', message: expect.stringMatching(message) });
    await extracted;
    expect(await readdir(path.dirname(target))).toEqual(['data']);
    await expect(lstat('/tmp/escape')).rejects.toThrow();
  });

  it('never writes through a symlink the archive made, even one that stays inside data/', async () => {
    const tar = Readable.from([await tarOf([...dataDir, [{ name: 'data/base', type: 'directory' }], [{ name: 'data/l', type: 'symlink', linkname: 'base' }], [{ name: 'data/l/f' }, 'x']], true)]);
    const target = path.join(await tempDir(), 'data');
    await mkdir(target);
    await expect(extractDataDir(tar, target, resolveRunAs())).rejects.toThrow(/an entry inside a symlink: "data\/l\/f"/);
    expect(await readdir(path.join(target, 'base'))).toEqual([]);
  });

  it('refuses what is not a snapshot archive, and an archive format it does not know', async () => {
    const notGzip = readSnapshotArchive(Readable.from([Buffer.from('hello\n')]), 'x.txt');
    await expect(notGzip.manifest).rejects.toMatchObject({ code: 'PGBRANCH_ARCHIVE_INVALID', message: expect.stringMatching(/x\.txt is not a pgbranch snapshot archive: it is not gzip'd/) });
    const otherTar = readSnapshotArchive(Readable.from([gzipSync(await tarOf([[{ name: 'README' }, 'hi']], true))]), 'other.tgz');
    await expect(otherTar.manifest).rejects.toMatchObject({ code: 'PGBRANCH_ARCHIVE_INVALID', message: expect.stringMatching(/its first entry is "README"/) });
    const future = readSnapshotArchive(await crafted(dataDir, { manifest: { ...MANIFEST, format: 2 } }), 'future.tgz');
    await expect(future.manifest).rejects.toMatchObject({ code: 'PGBRANCH_ARCHIVE_FORMAT', message: expect.stringMatching(/future\.tgz is in archive format 2, which this version of pgbranch \(format 1\) cannot read/) });
    const badHash = readSnapshotArchive(await crafted(dataDir, { manifest: { ...MANIFEST, hash: '../../etc' } }), 'bad.tgz');
    await expect(badHash.manifest).rejects.toMatchObject({ code: 'PGBRANCH_ARCHIVE_INVALID' });
  });
});
