import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { removeDir, removeDirSync } from '../cloners/remove-dir.js';
import { readCompleteMeta, type StoredSnapshot } from '../snapshot/stored-snapshot.js';
import { addSnapshotName, snapshotNames } from '../snapshot/snapshot-names.js';
import type { CacheLayout } from './layout.js';

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

  remove(snapshot: StoredSnapshot): Promise<void> {
    return removeDir(this.layout.snapshot(snapshot.hash));
  }
  removeSync(snapshot: StoredSnapshot): void {
    removeDirSync(this.layout.snapshot(snapshot.hash));
  }
}
