import { createReadStream } from 'node:fs';
import { chmod, lstat, mkdir, open, readdir, readlink, symlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { extract, pack, type Entry, type Pack } from 'tar-stream';
import { giveLinkTo, giveTo, type RunAs } from '../system/run-as.js';
import { DATA_PREFIX, dataEntryProblem, dataRelativePath } from './data-entry.js';
import { feedTar, writeChunk } from './tar-feed.js';

/**
 * A tar stream of a data directory on this host, its entries under `data/` (parents before children, in name
 * order): directories, files and symlinks with their modes. Files are streamed, never read whole. The directory
 * must not change while it is read (a stored snapshot never does).
 */
export function packDataDir(dir: string): Readable {
  const archive = pack();
  const tar = Readable.from(archive, { objectMode: false });
  addTree(archive, dir, DATA_PREFIX.slice(0, -1)).then(
    () => archive.finalize(),
    (err: Error) => {
      archive.destroy(err);
      tar.destroy(err);
    },
  );
  return tar;
}

async function addTree(archive: Pack, dir: string, name: string): Promise<void> {
  const st = await lstat(dir);
  await entry(archive, { name: `${name}/`, type: 'directory', mode: st.mode & 0o7777, mtime: st.mtime });
  const children = (await readdir(dir)).sort();
  for (const child of children) {
    const full = path.join(dir, child);
    const childName = `${name}/${child}`;
    const cst = await lstat(full);
    if (cst.isDirectory()) await addTree(archive, full, childName);
    else if (cst.isSymbolicLink()) await entry(archive, { name: childName, type: 'symlink', linkname: await readlink(full), mode: 0o777, mtime: cst.mtime });
    else if (cst.isFile()) await entry(archive, { name: childName, type: 'file', size: cst.size, mode: cst.mode & 0o7777, mtime: cst.mtime }, full);
    else throw new Error(`${full} is neither a file, a directory nor a symlink; a stopped data directory has none of those`);
  }
}

/** Adds one entry, streaming a file's contents (from a file or a stream), and waits until the archive took it. */
async function entry(archive: Pack, header: Parameters<Pack['entry']>[0], file?: string, from?: AsyncIterable<Buffer>): Promise<void> {
  const sink = archive.entry(header);
  const finished = new Promise<void>((resolve, reject) => {
    sink.on('finish', resolve);
    sink.on('error', reject);
  });
  finished.catch(() => undefined); // awaited below, after the contents: a failure meanwhile must not go unhandled
  const contents = from ?? (file ? createReadStream(file) : undefined);
  if (contents) for await (const chunk of contents) await writeChunk(sink, chunk);
  sink.end();
  await finished;
}

/**
 * Extracts a tar stream of a data directory (entries under `data/`, see packDataDir) into `dir`, which exists and
 * is empty: everything is created anew (never through an existing file or link), with the entries' modes, owned by
 * `owner`. Refuses entries outside `data/` or through a symlink the stream made. Rejects when the stream fails.
 */
export async function extractDataDir(tar: Readable, dir: string, owner: RunAs): Promise<void> {
  const entries = extract();
  feedTar(tar, entries);
  const links = new Set<string>();
  const dirModes: Array<[string, number]> = [];
  for await (const item of entries as AsyncIterable<Entry>) {
    const header = item.header;
    const problem = dataEntryProblem(header);
    if (problem) throw new Error(`the snapshot data holds ${problem}`);
    const rel = dataRelativePath(header.name);
    const parts = rel.split('/');
    if (parts.some((_, i) => links.has(parts.slice(0, i + 1).join('/')) && i < parts.length - 1)) {
      throw new Error(`the snapshot data holds an entry inside a symlink: ${JSON.stringify(header.name)}`);
    }
    const target = rel ? path.join(dir, rel) : dir;
    const mode = (header.mode ?? 0o600) & 0o7777;
    if (header.type === 'directory') {
      if (rel) await mkdir(target, { mode: 0o700 });
      await giveTo(owner, target);
      dirModes.push([target, mode]);
      item.resume();
    } else if (header.type === 'symlink') {
      await symlink(header.linkname!, target);
      await giveLinkTo(owner, target);
      links.add(rel);
      item.resume();
    } else {
      const file = await open(target, 'wx', 0o600);
      try {
        await writeBatched(file, item);
        if (owner.dropped) await file.chown(owner.uid, owner.gid);
        await file.chmod(mode);
      } finally {
        await file.close();
      }
    }
  }
  // Modes of directories last: a read-only one is still written into until its last entry.
  for (const [target, mode] of dirModes.reverse()) await chmod(target, mode);
}

/** Gathered into writes of up to 1 MiB: one write per parser chunk (16 KiB) spends most of an import waiting. */
const WRITE_BATCH = 1 << 20;

async function writeBatched(file: FileHandle, item: AsyncIterable<Buffer>): Promise<void> {
  let pending: Buffer[] = [];
  let size = 0;
  for await (const chunk of item) {
    pending.push(chunk);
    size += chunk.length;
    if (size >= WRITE_BATCH) {
      await writeAll(file, Buffer.concat(pending, size));
      pending = [];
      size = 0;
    }
  }
  if (size > 0) await writeAll(file, Buffer.concat(pending, size));
}

async function writeAll(file: FileHandle, buffer: Buffer): Promise<void> {
  for (let offset = 0; offset < buffer.length; ) offset += (await file.write(buffer, offset)).bytesWritten;
}

/**
 * The entries of a data tar stream (under `data/`) moved under `into` (a relative path, e.g. `var/lib/pgbranch`),
 * owned by `owner`, after a directory entry for `into` itself: what `docker cp`/putArchive extracts at `/` to
 * place a data directory where a container expects it. Streams; fails when `tar` fails.
 */
export function rebaseDataTar(tar: Readable, into: string, owner: { uid: number; gid: number }): Readable {
  const entries = extract();
  const archive = pack();
  const out = Readable.from(archive, { objectMode: false });
  feedTar(tar, entries);
  const copy = async (): Promise<void> => {
    await entry(archive, { name: `${into}/`, type: 'directory', mode: 0o700, uid: owner.uid, gid: owner.gid });
    for await (const item of entries as AsyncIterable<Entry>) {
      const header = item.header;
      const problem = dataEntryProblem(header);
      if (problem) throw new Error(`the snapshot data holds ${problem}`);
      await entry(archive, { ...header, name: `${into}/${header.name}`, uid: owner.uid, gid: owner.gid, uname: '', gname: '' }, undefined, item);
    }
    archive.finalize();
  };
  copy().catch((err: Error) => {
    archive.destroy(err);
    out.destroy(err);
  });
  return out;
}
