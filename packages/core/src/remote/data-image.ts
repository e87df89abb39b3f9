import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, pack } from 'tar-stream';
import type { Driver } from '../drivers/driver.js';
import { RegistryError } from '../errors.js';
import type { StoredSnapshot } from '../snapshot/stored-snapshot.js';
import { manifestOf, writeSnapshotArchive } from '../snapshot/snapshot-archive.js';
import { dockerCommand, dockerProcess, type DockerCommandOptions } from './docker-command.js';
import { feedTar } from '../snapshot/tar-feed.js';
import { importArchive } from './portable-snapshots.js';
import { PORTABLE_LABEL, type RegistryTransport } from './transport.js';

/** The one file of a data image: the snapshot's archive (see snapshot-archive.ts). */
const ARCHIVE_FILE = 'pgbranch-snapshot.tar.gz';

/**
 * Snapshots whose data is a directory on this host (local, template and bind-mount drivers) travel as a one-layer
 * image holding their archive: made with `docker import`, pushed and pulled by the Docker CLI (with its
 * credentials), read back with `docker cp`. The archive's own digest is checked when it is stored.
 */
export class DataImageTransport implements RegistryTransport {
  constructor(
    private readonly driver: Driver,
    private readonly docker: DockerCommandOptions,
  ) {}

  async push(snapshot: StoredSnapshot, ref: string): Promise<void> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pgbranch-push-'));
    const file = path.join(dir, ARCHIVE_FILE);
    const manifest = manifestOf(snapshot, this.driver.postgresIdentity);
    try {
      await writeSnapshotArchive(manifest, await this.driver.exportData(snapshot), createWriteStream(file, { mode: 0o600 }));
      const size = (await stat(file)).size;
      const tar = pack();
      const entry = tar.entry({ name: ARCHIVE_FILE, size, mode: 0o644 });
      const feeding = pipeline(createReadStream(file), entry).then(() => tar.finalize());
      const changes = [`LABEL ${PORTABLE_LABEL}=${JSON.stringify(JSON.stringify(manifest))}`, 'CMD ["/none"]'];
      const importing = dockerCommand(['import', ...changes.flatMap((c) => ['--change', c]), '-', ref], { ...this.docker, input: tar });
      importing.catch(() => tar.destroy()); // a failed import stops the feeding, and closes the archive, at once
      await Promise.all([importing, feeding]);
      await dockerCommand(['push', ref], this.docker);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await dockerCommand(['rmi', ref], this.docker).catch(() => undefined);
    }
  }

  async pull(ref: string, hash: string): Promise<StoredSnapshot> {
    await dockerCommand(['pull', ref], this.docker);
    let container: string | undefined;
    try {
      container = await dockerCommand(['create', ref], this.docker);
      const copy = dockerProcess(['cp', `${container}:/${ARCHIVE_FILE}`, '-'], this.docker);
      try {
        const imported = await importArchive(this.driver, await firstEntry(copy.stdout, ref), ref, hash);
        if (imported.reused) copy.stop(); // stored meanwhile by another process: the rest is not read
        else await copy.done;
        return imported.meta;
      } catch (err) {
        copy.stop();
        throw err;
      } finally {
        await copy.done.catch(() => undefined);
      }
    } finally {
      if (container) await dockerCommand(['rm', '-f', container], this.docker).catch(() => undefined);
      await dockerCommand(['rmi', ref], this.docker).catch(() => undefined);
    }
  }
}

/** The first file of a tar stream (`docker cp` wraps the copied file in one). */
function firstEntry(tar: Readable, ref: string): Promise<Readable> {
  const reader = extract();
  return new Promise((resolve, reject) => {
    let found = false;
    reader.on('entry', (header, stream, next) => {
      if (found || header.type !== 'file') {
        stream.resume();
        stream.on('end', next);
        return;
      }
      found = true;
      stream.on('end', next);
      resolve(stream);
    });
    reader.on('finish', () => found || reject(new RegistryError('PGBRANCH_REGISTRY_FAILED', `Image ${ref} holds no snapshot archive: it was not pushed by pgbranch.`)));
    reader.on('error', reject);
    feedTar(tar, reader);
  });
}
