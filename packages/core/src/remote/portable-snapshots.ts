import type { Readable, Writable } from 'node:stream';
import type { Driver } from '../drivers/driver.js';
import { RegistryError, SnapshotIncompatibleError, SnapshotNotFoundError } from '../errors.js';
import { manifestOf, storedOf, writeSnapshotArchive, type SnapshotManifest } from '../snapshot/snapshot-archive.js';
import { readSnapshotArchive } from '../snapshot/snapshot-archive-reader.js';
import type { StoredSnapshot } from '../snapshot/stored-snapshot.js';

/** Writes a stored snapshot as a snapshot archive (see writeSnapshotArchive) to `out`. */
export async function exportArchive(driver: Driver, snapshot: StoredSnapshot, out: Writable): Promise<void> {
  const data = await driver.exportData(snapshot);
  await writeSnapshotArchive(manifestOf(snapshot, driver.postgresIdentity), data, out);
}

/**
 * Stores the snapshot of an archive read from `input` (named `source` in errors) unless a snapshot with its hash is
 * stored already (then the rest of the archive is not read). Refuses an archive of another Postgres build.
 */
export async function importArchive(driver: Driver, input: Readable, source: string, expectedHash?: string): Promise<{ meta: StoredSnapshot; reused: boolean }> {
  const archive = readSnapshotArchive(input, source);
  const stop = () => {
    archive.data.destroy();
    input.destroy();
  };
  try {
    const manifest = await archive.manifest;
    assertSameBuild(manifest, driver, source);
    assertHash(manifest, expectedHash, source);
    const stored = await driver.findSnapshot(manifest.hash);
    if (stored) {
      stop();
      return { meta: stored, reused: true };
    }
    return { meta: await driver.importData(storedOf(manifest), archive.data, archive.verified), reused: false };
  } catch (err) {
    stop();
    throw err;
  }
}

/** Refuses a snapshot written by another Postgres build than the driver runs: its data files would not work. */
export function assertSameBuild(manifest: SnapshotManifest, driver: Driver, source: string): void {
  if (manifest.identity === driver.postgresIdentity) return;
  throw new SnapshotIncompatibleError(
    `Snapshot "${manifest.name}" (${manifest.hash.slice(0, 12)}) in ${source} was built by another Postgres build ` +
      `(PostgreSQL ${manifest.postgresVersion}, ${manifest.identity}) than the ${driver.name} driver runs here ` +
      `(PostgreSQL ${driver.info.postgresVersion}, ${driver.postgresIdentity}); data files only work with the build that wrote them. ` +
      `Seed the snapshot here instead (engine.snapshot(), or pgbranch snapshot NAME --sql PATH), or use the same Postgres build ` +
      `(the same binaries, or the same Docker image) on both machines.`,
  );
}

/** A registry image tagged with one hash must hold that snapshot (an image pushed there by something else does not). */
export function assertHash(manifest: SnapshotManifest, expectedHash: string | undefined, source: string): void {
  if (expectedHash === undefined || manifest.hash === expectedHash) return;
  throw new RegistryError('PGBRANCH_REGISTRY_FAILED', `${source} holds snapshot ${manifest.hash.slice(0, 12)}, not ${expectedHash.slice(0, 12)}: it was pushed there by something else.`);
}

/** The error for a name or hash that matches no stored snapshot, listing those that exist. */
export function noSuchSnapshot(nameOrHash: string, stored: StoredSnapshot[], cacheDir: string): SnapshotNotFoundError {
  const known = stored
    .filter((m) => m.kind !== 'base')
    .map((m) => `${[m.name, ...(m.names ?? [])].join('/')} (${m.hash.slice(0, 12)})`);
  return new SnapshotNotFoundError(
    `No snapshot called "${nameOrHash}" (nor with that hash) in ${cacheDir}` +
      (known.length ? `; stored: ${known.join(', ')}.` : '; none is stored.') +
      ` Build one with \`pgbranch snapshot NAME --sql PATH\` or import an archive with \`pgbranch snapshot import FILE\`.`,
  );
}
