import { rename } from 'node:fs/promises';
import path from 'node:path';
import { removeDir } from '../cloners/remove-dir.js';
import type { BuildJob } from '../snapshot/build-job.js';
import type { CacheLayout } from './layout.js';
import { describeCause, hintFor, PgbranchError } from '../errors.js';
import { logger } from '../log.js';
import { exec } from '../system/exec.js';
import { markComplete, metaFor, treeSize, writeMeta, type StoredSnapshot } from '../snapshot/stored-snapshot.js';

const log = logger('seed');

/**
 * Moves a finished build directory (`buildDir/data`, cleanly shut down) into the cache as a snapshot:
 * synced to disk, metadata written, renamed into place, and the completion marker written last,
 * so a crash at any point leaves either nothing or an incomplete directory that is rebuilt.
 */
export async function storeSnapshot(layout: CacheLayout, job: BuildJob, buildDir: string, postgresVersion: string): Promise<StoredSnapshot> {
  return moveIntoPlace(layout, buildDir, (sizeBytes) => metaFor(job, { sizeBytes, postgresVersion }));
}

/**
 * Like storeSnapshot, for a snapshot built elsewhere (imported): its metadata as given, with the size measured here
 * and without what belongs to another cache directory (owner session, other names).
 */
export async function storeImported(layout: CacheLayout, meta: StoredSnapshot, buildDir: string): Promise<StoredSnapshot> {
  const { ephemeralOwner: _owner, names: _names, ...kept } = meta;
  return moveIntoPlace(layout, buildDir, (sizeBytes) => ({ ...kept, sizeBytes }));
}

async function moveIntoPlace(layout: CacheLayout, buildDir: string, metaOf: (sizeBytes: number) => StoredSnapshot): Promise<StoredSnapshot> {
  const dataDir = path.join(buildDir, 'data');
  await exec('sync', ['-f', dataDir]).catch((err: Error) => log('sync -f failed (%s); relying on fsync of the marker', err.message));
  const meta = metaOf(await treeSize(dataDir));
  await writeMeta(buildDir, meta);
  const finalDir = layout.snapshot(meta.hash);
  await removeDir(finalDir); // an incomplete leftover of a crashed build
  await rename(buildDir, finalDir);
  await markComplete(finalDir);
  return meta;
}

/** The error a failed build raises: a pgbranch error as it is, anything else wrapped with the snapshot named. */
export function buildFailure(job: Pick<BuildJob, 'name' | 'hash'>, err: unknown): PgbranchError {
  if (err instanceof PgbranchError) return err;
  return new PgbranchError(
    'PGBRANCH_SNAPSHOT_FAILED',
    `Snapshot "${job.name}" (${job.hash.slice(0, 12)}) could not be built: ${describeCause(err)}.${hintFor(err)} Nothing was cached.`,
    { cause: err },
  );
}
