import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { extract, pack, type Headers, type Pack } from 'tar-stream';
import type { StoredSnapshot } from './stored-snapshot.js';
import { dataEntryProblem } from './data-entry.js';
import { copyEntry, feedTar } from './tar-feed.js';

/** The first entry of a snapshot archive. */
export const MANIFEST_ENTRY = 'pgbranch-snapshot.json';
/** The last entry: sha256 (hex) of the uncompressed tar bytes of every entry before it. */
export const DIGEST_ENTRY = 'pgbranch-snapshot.sha256';
/** The archive format this version writes and reads. */
export const ARCHIVE_FORMAT = 1;
/**
 * Level 1: on a 61 MB seeded data directory it took about half of level 6's time (0.7–1.0 s against 1.5–1.6 s)
 * for an archive 9% larger (16.2 MB against 14.9 MB). Export and import sit on CI's critical path; bytes are cheap.
 */
export const ARCHIVE_GZIP_LEVEL = 1;

/**
 * What a snapshot archive says about its snapshot: the stored snapshot minus what only its cache directory knows
 * (owner session, other names), plus the archive format and the identity of the Postgres build that wrote the data
 * (the driver's postgresIdentity), which must match where it is imported.
 */
export interface SnapshotManifest {
  format: typeof ARCHIVE_FORMAT;
  name: string;
  hash: string;
  kind: StoredSnapshot['kind'];
  parent?: string;
  files: string[];
  createdAt: string;
  postgresVersion: string;
  /** The driver's postgresIdentity where the snapshot was built. */
  identity: string;
  /** Apparent size of the data directory (or the image) where it was exported. */
  sizeBytes: number;
}

/** The manifest of a stored snapshot, for a driver with `identity`. */
export function manifestOf(snapshot: StoredSnapshot, identity: string): SnapshotManifest {
  return {
    format: ARCHIVE_FORMAT,
    name: snapshot.name,
    hash: snapshot.hash,
    kind: snapshot.kind,
    ...(snapshot.parent ? { parent: snapshot.parent } : {}),
    files: snapshot.files,
    createdAt: snapshot.createdAt,
    postgresVersion: snapshot.postgresVersion,
    identity,
    sizeBytes: snapshot.sizeBytes,
  };
}

/** The stored snapshot an imported manifest describes. */
export function storedOf(manifest: SnapshotManifest): StoredSnapshot {
  const { format: _format, identity: _identity, ...meta } = manifest;
  return meta;
}

/**
 * Writes a snapshot archive to `out`: a gzip'd tar of the manifest (`pgbranch-snapshot.json`), the data
 * directory's entries as `dataTar` gives them (each under `data/`; owners are dropped, the importer decides them),
 * and `pgbranch-snapshot.sha256`, the digest of the tar bytes before it. Streams: memory use does not grow with
 * the snapshot. Ends `out`; rejects (and destroys `out`) when `dataTar` fails or holds an entry outside `data/`.
 */
export async function writeSnapshotArchive(manifest: SnapshotManifest, dataTar: Readable, out: Writable): Promise<void> {
  const gzip = createGzip({ level: ARCHIVE_GZIP_LEVEL });
  const written = pipeline(gzip, out);
  const body = pack();
  const digest = createHash('sha256');
  try {
    // The body's own end-of-archive blocks are held back: the digest entry follows the data, then the end.
    const copied = copyWithoutEnd(body, gzip, digest);
    await Promise.all([copied, fillBody(body, manifest, dataTar)]);
    const trailer = pack();
    trailer.entry({ name: DIGEST_ENTRY, mode: 0o644, mtime: new Date(manifest.createdAt) }, `${digest.digest('hex')}\n`);
    trailer.finalize();
    for await (const chunk of trailer) if (!gzip.write(chunk)) await once(gzip, 'drain');
    gzip.end();
    await written;
  } catch (err) {
    body.destroy(err as Error);
    dataTar.destroy();
    gzip.destroy(err as Error);
    await written.catch(() => undefined);
    throw err;
  }
}

async function fillBody(body: Pack, manifest: SnapshotManifest, dataTar: Readable): Promise<void> {
  await entryDone(body, { name: MANIFEST_ENTRY, mode: 0o644, mtime: new Date(manifest.createdAt) }, `${JSON.stringify(manifest, null, 2)}\n`);
  const entries = extract();
  feedTar(dataTar, entries);
  for await (const entry of entries) {
    const header = entry.header;
    const problem = dataEntryProblem(header);
    if (problem) throw new Error(`the data to archive holds ${problem}`);
    const sink = body.entry({
      name: header.name,
      type: header.type,
      mode: (header.mode ?? 0) & 0o7777,
      size: header.type === 'file' ? header.size : 0,
      linkname: header.type === 'symlink' ? header.linkname : undefined,
      mtime: header.mtime,
    });
    await copyEntry(entry, sink);
  }
  body.finalize();
}

function entryDone(body: Pack, header: Headers, content: string): Promise<void> {
  return new Promise((resolve, reject) => body.entry(header, content, (err) => (err ? reject(err) : resolve())));
}

/** Tar's end of archive: two zero blocks. */
const END_BLOCKS = 1024;

/** Copies a tar stream into `into` and the digest, all but its end-of-archive blocks. */
async function copyWithoutEnd(tar: Readable, into: Writable, digest: ReturnType<typeof createHash>): Promise<void> {
  let held: Buffer = Buffer.alloc(0);
  for await (const chunk of tar as AsyncIterable<Buffer>) {
    const all = held.length ? Buffer.concat([held, chunk]) : chunk;
    const cut = Math.max(0, all.length - END_BLOCKS);
    held = all.subarray(cut);
    if (cut === 0) continue;
    const out = all.subarray(0, cut);
    digest.update(out);
    if (!into.write(out)) await once(into, 'drain');
  }
}
