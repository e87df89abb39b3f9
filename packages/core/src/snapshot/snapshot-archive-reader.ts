import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract, pack, type Entry } from 'tar-stream';
import { describeCause, PgbranchError, SnapshotArchiveError } from '../errors.js';
import { dataEntryProblem } from './data-entry.js';
import { ARCHIVE_FORMAT, DIGEST_ENTRY, MANIFEST_ENTRY, type SnapshotManifest } from './snapshot-archive.js';
import { TarDigestTap } from './tar-digest-tap.js';
import { copyEntry } from './tar-feed.js';

/** A snapshot archive being read (see readSnapshotArchive). */
export interface SnapshotArchiveReader {
  /** The manifest (the archive's first entry); rejects when the input is not a snapshot archive of a known format. */
  manifest: Promise<SnapshotManifest>;
  /** A tar stream of the data directory's entries (under `data/`); it fails when the archive turns out damaged. */
  data: Readable;
  /**
   * Resolves once the whole archive was read (so only after `data` was read to its end) and its digest matched;
   * rejects with a SnapshotArchiveError naming `source` on a digest mismatch, a truncated or corrupt gzip or tar,
   * a missing digest entry, an entry outside `data/` (or with `..`, or a symlink leading out), or an unknown format.
   */
  verified: Promise<void>;
}

const MAX_SMALL_ENTRY = 1 << 20;

/**
 * Reads a snapshot archive (see writeSnapshotArchive) as a stream: nothing is buffered beyond one chunk, so a
 * 1 GB snapshot costs no more memory than a small one. `source` names the archive in errors (a file name).
 * Whoever stops reading early destroys `input`.
 */
export function readSnapshotArchive(input: Readable, source = 'the snapshot archive'): SnapshotArchiveReader {
  const problem = (code: 'PGBRANCH_ARCHIVE_CORRUPT' | 'PGBRANCH_ARCHIVE_INVALID' | 'PGBRANCH_ARCHIVE_FORMAT', detail: string, cause?: unknown) =>
    new SnapshotArchiveError(
      code,
      code === 'PGBRANCH_ARCHIVE_CORRUPT'
        ? `${source} is damaged: ${detail}. Nothing was imported; export the snapshot again (pgbranch snapshot export NAME -o FILE) and copy the file whole.`
        : code === 'PGBRANCH_ARCHIVE_FORMAT'
          ? `${source} ${detail}. Nothing was imported.`
          : detail.startsWith('it holds')
            ? `${source} is refused: ${detail}, which could write outside the snapshot's directory. Nothing was imported.`
            : `${source} is not a pgbranch snapshot archive: ${detail}. Nothing was imported; pgbranch snapshot export writes one.`,
      cause === undefined ? undefined : { cause },
    );
  const gunzip = createGunzip();
  const tap = new TarDigestTap(DIGEST_ENTRY);
  const entries = extract();
  const out = pack();
  const data = Readable.from(out, { objectMode: false });
  // Whoever reads `data` learns why it failed from `verified`; an error nobody listens to must not crash the process.
  for (const stream of [data, out, entries, tap]) stream.on('error', () => undefined);
  let unzipped = 0;
  let settleManifest!: { resolve: (m: SnapshotManifest) => void; reject: (e: unknown) => void };
  const manifest = new Promise<SnapshotManifest>((resolve, reject) => (settleManifest = { resolve, reject }));

  const fail = (err: unknown) => {
    settleManifest.reject(err);
    entries.destroy(err as Error);
    out.destroy(err as Error);
    data.destroy(err as Error);
    gunzip.destroy();
    input.destroy();
  };
  input.on('error', (err) => fail(problem('PGBRANCH_ARCHIVE_CORRUPT', `it could not be read (${describeCause(err)})`, err)));
  gunzip.on('data', (chunk: Buffer) => (unzipped += chunk.length));
  gunzip.on('error', (err) =>
    fail(
      unzipped === 0
        ? problem('PGBRANCH_ARCHIVE_INVALID', `it is not gzip'd (${describeCause(err)})`, err)
        : problem('PGBRANCH_ARCHIVE_CORRUPT', `its gzip data is truncated or corrupt (${describeCause(err)})`, err),
    ),
  );
  input.pipe(gunzip).pipe(tap).pipe(entries);

  const read = async (): Promise<void> => {
    let index = 0;
    let recorded: string | undefined;
    for await (const entry of entries as AsyncIterable<Entry>) {
      const header = entry.header;
      if (index++ === 0) {
        if (header.name !== MANIFEST_ENTRY) throw problem('PGBRANCH_ARCHIVE_INVALID', `its first entry is ${JSON.stringify(header.name)}, not ${MANIFEST_ENTRY}`);
        settleManifest.resolve(parseManifest(await small(entry), problem));
        continue;
      }
      if (recorded !== undefined) throw problem('PGBRANCH_ARCHIVE_CORRUPT', `it has an entry after its digest (${JSON.stringify(header.name)})`);
      if (header.name === DIGEST_ENTRY) {
        recorded = (await small(entry)).trim();
        continue;
      }
      const refused = dataEntryProblem(header);
      if (refused) throw problem('PGBRANCH_ARCHIVE_INVALID', `it holds ${refused}`);
      const sink = out.entry({ name: header.name, type: header.type, mode: header.mode, size: header.size, linkname: header.linkname, mtime: header.mtime });
      await copyEntry(entry, sink);
    }
    if (index === 0) throw problem('PGBRANCH_ARCHIVE_INVALID', 'its tar has no entries');
    if (recorded === undefined) throw problem('PGBRANCH_ARCHIVE_CORRUPT', `it ends without its ${DIGEST_ENTRY} entry (truncated?)`);
    if (tap.digest !== recorded) throw problem('PGBRANCH_ARCHIVE_CORRUPT', 'its contents do not match its sha256 digest');
    out.finalize();
  };
  const verified = read().catch((err: unknown) => {
    const known = err instanceof PgbranchError ? err : problem('PGBRANCH_ARCHIVE_CORRUPT', `its tar data is truncated or corrupt (${describeCause(err)})`, err);
    fail(known);
    throw known;
  });
  // Callers may await only one of them; neither may become an unhandled rejection.
  manifest.catch(() => undefined);
  verified.catch(() => undefined);
  return { manifest, data, verified };
}

async function small(entry: Entry): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of entry) {
    size += chunk.length;
    if (size > MAX_SMALL_ENTRY) throw new Error(`entry ${entry.header.name} is larger than ${MAX_SMALL_ENTRY} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const HASH = /^[0-9a-f]{8,64}$/;

/** A manifest's JSON, checked field by field (an archive's first entry, or a pushed image's label). */
export function parseManifest(text: string, problem: (code: 'PGBRANCH_ARCHIVE_INVALID' | 'PGBRANCH_ARCHIVE_FORMAT', detail: string) => Error): SnapshotManifest {
  let m: Partial<SnapshotManifest> & { format?: unknown };
  try {
    m = JSON.parse(text) as typeof m;
  } catch {
    throw problem('PGBRANCH_ARCHIVE_INVALID', `its ${MANIFEST_ENTRY} is not JSON`);
  }
  if (typeof m.format === 'number' && m.format !== ARCHIVE_FORMAT) {
    throw problem('PGBRANCH_ARCHIVE_FORMAT', `is in archive format ${m.format}, which this version of pgbranch (format ${ARCHIVE_FORMAT}) cannot read; import it with the pgbranch version that exported it, or a newer one`);
  }
  const valid =
    m.format === ARCHIVE_FORMAT &&
    typeof m.name === 'string' &&
    typeof m.hash === 'string' &&
    HASH.test(m.hash) &&
    (m.parent === undefined || (typeof m.parent === 'string' && HASH.test(m.parent))) &&
    (m.kind === 'base' || m.kind === 'recipe' || m.kind === 'branch') &&
    Array.isArray(m.files) &&
    m.files.every((f) => typeof f === 'string') &&
    typeof m.createdAt === 'string' &&
    typeof m.postgresVersion === 'string' &&
    typeof m.identity === 'string' &&
    typeof m.sizeBytes === 'number';
  if (!valid) throw problem('PGBRANCH_ARCHIVE_INVALID', `its ${MANIFEST_ENTRY} lacks or mangles a field (format, name, hash, kind, files, createdAt, postgresVersion, identity, sizeBytes)`);
  return m as SnapshotManifest;
}
