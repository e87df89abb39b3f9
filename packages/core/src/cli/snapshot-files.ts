import { createReadStream, createWriteStream, fsyncSync } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { SnapshotArchiveError, UsageError } from '../errors.js';
import { withNamed, type CliContext } from './branches.js';

/**
 * `pgbranch snapshot export NAME|HASH -o FILE`: writes a stored snapshot as an archive, atomically (a temporary
 * file beside FILE, synced, then renamed over it); `-o -` writes to stdout (and the summary to stderr).
 */
export async function runExport(cli: CliContext, nameOrHash: string | undefined, output: string | undefined): Promise<number> {
  if (!nameOrHash || !output) throw new UsageError('Usage: pgbranch snapshot export NAME|HASH -o FILE (-o - for stdout).');
  return withNamed(cli, async (_named, engine) => {
    const t0 = performance.now();
    const toStdout = output === '-';
    const target = path.resolve(output);
    const temp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(4).toString('hex')}.tmp`);
    let meta;
    if (toStdout) meta = await engine.exportSnapshot(nameOrHash, process.stdout);
    else {
      try {
        meta = await engine.exportSnapshot(nameOrHash, createWriteStream(temp, { flags: 'wx', mode: 0o644 }));
        const written = await open(temp, 'r');
        try {
          fsyncSync(written.fd); // durable before it takes FILE's name
        } finally {
          await written.close();
        }
        await rename(temp, target);
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const size = toStdout ? undefined : (await stat(target)).size;
    const say = toStdout ? (line: string) => void process.stderr.write(`${line}\n`) : cli.out;
    if (cli.json) say(JSON.stringify({ name: meta.name, hash: meta.hash, file: toStdout ? '-' : target, archiveBytes: size, seconds }));
    else say(`exported snapshot ${meta.name} ${meta.hash} to ${toStdout ? 'stdout' : `${output} (${((size ?? 0) / 1e6).toFixed(1)} MB)`} in ${seconds.toFixed(1)} s`);
    return 0;
  }, undefined, 'read');
}

/** `pgbranch snapshot import FILE` (`-` for stdin): stores the archive's snapshot in the cache directory. */
export async function runImport(cli: CliContext, file: string | undefined): Promise<number> {
  if (!file) throw new UsageError('Usage: pgbranch snapshot import FILE (- for stdin).');
  const fromStdin = file === '-';
  if (!fromStdin) {
    const st = await stat(file).catch(() => undefined);
    if (!st?.isFile()) {
      throw new SnapshotArchiveError('PGBRANCH_ARCHIVE_NOT_FOUND', `No snapshot archive at ${file} (resolved to ${path.resolve(file)}); pgbranch snapshot export NAME -o FILE writes one.`);
    }
  }
  return withNamed(cli, async (_named, engine) => {
    const t0 = performance.now();
    const snap = await engine.importSnapshot(fromStdin ? process.stdin : createReadStream(file), fromStdin ? 'the archive on stdin' : file);
    const seconds = (performance.now() - t0) / 1000;
    const stored = snap.origin === 'cache';
    if (cli.json) cli.out(JSON.stringify({ name: snap.name, hash: snap.hash, reused: stored, origin: snap.origin, sizeBytes: snap.sizeBytes, seconds }));
    else cli.out(`snapshot ${snap.name} ${snap.hash} ${stored ? 'was stored already' : `imported in ${seconds.toFixed(1)} s`}, ${(snap.sizeBytes / 1e6).toFixed(0)} MB`);
    return 0;
  });
}
