import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Cloner } from '../cloners/cloner.js';
import { removeDir, removeDirSync } from '../cloners/remove-dir.js';
import { extractDataDir, packDataDir } from '../snapshot/data-dir-tar.js';
import { readCompleteMeta, type StoredSnapshot } from '../snapshot/stored-snapshot.js';
import { addSnapshotName, snapshotNames } from '../snapshot/snapshot-names.js';
import type { RunAs } from '../system/run-as.js';
import { withLock } from './lock.js';
import type { CacheLayout } from './layout.js';
import { storeImported } from './store-snapshot.js';

/** How a driver that stores data directories receives an imported one (see SnapshotDirs.importData). */
export interface DirImport {
  /** The importing engine's session: names the build directory. */
  session: string;
  /** Makes the empty data directory (btrfs: a subvolume, so that clones of it are snapshots). */
  cloner: Cloner;
  /** Who owns the extracted files: the user the driver's servers run as. */
  owner: RunAs;
  /** Sets this cache directory's superuser password in the stopped cluster (it ends cleanly shut down). */
  rekey: (dataDir: string) => Promise<void>;
}

/**
 * Snapshots stored as data directories in the cache (`<cache>/snapshots/<hash>/data`): the storage of every
 * driver that clones directories on this host (local, template, docker with bind storage).
 */
export class SnapshotDirs {
  constructor(private readonly layout: CacheLayout) {}

  /** The data directory of a stored snapshot (read-only: never start a server on it). */
  dataDir(snapshot: Pick<StoredSnapshot, 'hash'>): string {
    return path.join(this.layout.snapshot(snapshot.hash), 'data');
  }

  find(hash: string): Promise<StoredSnapshot | undefined> {
    return readCompleteMeta(this.layout.snapshot(hash));
  }

  /** Every complete snapshot, with the other names it was asked for. */
  async list(): Promise<StoredSnapshot[]> {
    const metas: StoredSnapshot[] = [];
    for (const entry of await readdir(this.layout.snapshots).catch(() => [] as string[])) {
      const meta = entry.startsWith('.') ? undefined : await this.find(entry);
      if (!meta) continue;
      const names = await snapshotNames(this.layout.snapshot(meta.hash));
      metas.push(names.length ? { ...meta, names } : meta);
    }
    return metas;
  }

  name(snapshot: StoredSnapshot, name: string): Promise<void> {
    return addSnapshotName(this.layout.snapshot(snapshot.hash), name);
  }

  /** A tar stream of a stored snapshot's data directory, entries under `data/` (see packDataDir). */
  exportData(snapshot: Pick<StoredSnapshot, 'hash'>): Readable {
    return packDataDir(this.dataDir(snapshot));
  }

  /**
   * Stores a snapshot built elsewhere (see Driver.importData): extracted into a build directory, given this cache
   * directory's password, and moved into place with its completion marker last, under the snapshot's lock. Nothing
   * stays behind unless `verified` resolves. A hash stored already is returned as it is (`data` is destroyed).
   */
  importData(meta: StoredSnapshot, data: Readable, verified: Promise<void>, how: DirImport): Promise<StoredSnapshot> {
    return withLock(this.layout.lock(meta.hash), async () => {
      const stored = await this.find(meta.hash);
      if (stored) {
        data.destroy();
        return stored;
      }
      const buildDir = this.layout.build(meta.hash, how.session);
      const dataDir = path.join(buildDir, 'data');
      await removeDir(buildDir);
      try {
        await mkdir(buildDir, { recursive: true, mode: 0o755 });
        await how.cloner.createSource(dataDir, how.owner);
        await receive(data, verified, () => extractDataDir(data, dataDir, how.owner));
        await how.rekey(dataDir);
        return await storeImported(this.layout, meta, buildDir);
      } catch (err) {
        await removeDir(buildDir).catch(() => undefined);
        throw err;
      }
    });
  }

  remove(snapshot: StoredSnapshot): Promise<void> {
    return removeDir(this.layout.snapshot(snapshot.hash));
  }
  removeSync(snapshot: StoredSnapshot): void {
    removeDirSync(this.layout.snapshot(snapshot.hash));
  }
}

/**
 * Runs `consume` (which reads `data` to its end) and waits for `verified`. When consuming fails because the archive
 * was damaged, the archive's own error (which names the file and what to do) is the one thrown.
 */
export async function receive(data: Readable, verified: Promise<void>, consume: () => Promise<void>): Promise<void> {
  let verdict: { err: unknown } | undefined;
  verified.catch((err: unknown) => (verdict = { err }));
  try {
    await consume();
  } catch (err) {
    await new Promise((resolve) => setImmediate(resolve));
    if (verdict) throw verdict.err;
    data.destroy();
    throw err;
  }
  await verified;
}
