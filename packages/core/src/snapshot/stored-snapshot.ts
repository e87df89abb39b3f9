import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { readFile, readdir, lstat, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * A snapshot as its driver stored it: the record beside a data directory (`meta.json`), or in a snapshot image's
 * label. `Snapshot` is the handle users hold; this is what it points to.
 */
export interface StoredSnapshot {
  name: string;
  hash: string;
  /** Hash of the snapshot it was made from (the base cluster for recipes). */
  parent?: string;
  kind: 'base' | 'recipe' | 'branch';
  createdAt: string;
  sizeBytes: number;
  postgresVersion: string;
  files: string[];
  /** Session that owns a snapshot taken of a branch; such snapshots go away with their owner. */
  ephemeralOwner?: string;
  /** Other names the same recipe was asked for under (read from `names/`, not stored in meta.json). */
  names?: string[];
}

export const COMPLETE_MARKER = 'COMPLETE';
const META_FILE = 'meta.json';

/** Reads a snapshot's metadata if it is complete; an incomplete snapshot is treated as absent. */
export async function readCompleteMeta(dir: string): Promise<StoredSnapshot | undefined> {
  const complete = await lstat(path.join(dir, COMPLETE_MARKER)).then(() => true, () => false);
  if (!complete) return undefined;
  return readFile(path.join(dir, META_FILE), 'utf8').then((s) => JSON.parse(s) as StoredSnapshot, () => undefined);
}

export async function writeMeta(dir: string, meta: StoredSnapshot): Promise<void> {
  await writeFile(path.join(dir, META_FILE), JSON.stringify(meta, null, 2));
}

/**
 * Writes the completion marker last, durably: only a fully built snapshot ever has one. Plain fds rather than
 * FileHandle.sync(), which Yarn Plug'n'Play's patched fs does not implement.
 */
export async function markComplete(dir: string): Promise<void> {
  const fd = openSync(path.join(dir, COMPLETE_MARKER), 'w');
  try {
    writeSync(fd, new Date().toISOString());
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    const d = openSync(dir, 'r');
    try {
      fsyncSync(d);
    } finally {
      closeSync(d);
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the marker itself is synced.
  }
}

/** Apparent size of a tree in bytes. */
export async function treeSize(dir: string): Promise<number> {
  let total = 0;
  const walk = async (current: string): Promise<void> => {
    for (const e of await readdir(current, { withFileTypes: true })) {
      const full = path.join(current, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile()) total += (await lstat(full)).size;
    }
  };
  await walk(dir);
  return total;
}

/** The metadata of a snapshot built now from a job. */
export function metaFor(
  job: { name: string; hash: string; kind: StoredSnapshot['kind']; from?: { hash: string }; files: Array<{ display: string }>; ephemeralOwner?: string },
  facts: { sizeBytes: number; postgresVersion: string },
): StoredSnapshot {
  return {
    name: job.name,
    hash: job.hash,
    parent: job.from?.hash,
    kind: job.kind,
    createdAt: new Date().toISOString(),
    sizeBytes: facts.sizeBytes,
    postgresVersion: facts.postgresVersion,
    files: job.files.map((f) => f.display),
    ...(job.ephemeralOwner ? { ephemeralOwner: job.ephemeralOwner } : {}),
  };
}
