import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';

/** A published package as users get it: `pnpm pack`'s tarball, unpacked. */
export interface PackedPackage {
  /** The workspace folder it was packed from. */
  sourceDir: string;
  tarball: string;
  /** The unpacked `package/` folder. */
  root: string;
  /** Every file, relative to `root`, with `/` separators. */
  files: string[];
  manifest: Manifest;
}

/** The fields of a package.json that these checks read. */
export interface Manifest {
  name: string;
  main?: string;
  types?: string;
  typesVersions?: Record<string, Record<string, string[]>>;
  exports?: Record<string, string | { types?: string; default?: string }>;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  scripts?: Record<string, string>;
  [field: string]: unknown;
}

/** Packs the workspace package in `sourceDir` with pnpm (as it is published) and unpacks it under `dest`. */
export function packPackage(sourceDir: string, dest: string): PackedPackage {
  const output = execFileSync('pnpm', ['pack', '--json', '--pack-destination', dest], { cwd: sourceDir, encoding: 'utf8' });
  const tarball = path.resolve(dest, (JSON.parse(output) as { filename: string }).filename);
  const unpacked = path.join(dest, path.basename(tarball, '.tgz'));
  execFileSync('mkdir', ['-p', unpacked]);
  execFileSync('tar', ['-xzf', tarball, '-C', unpacked]);
  const root = path.join(unpacked, 'package');
  const files = (readdirSync(root, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'));
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as Manifest;
  return { sourceDir, tarball, root, files, manifest };
}

/** `./dist/x.js` → `dist/x.js`: how a manifest path appears in the file list. */
export const packagePath = (p: string) => path.posix.normalize(p.replace(/^\.\//, ''));

/** Source-map `sources` of every `.map` file that do not resolve to a file in the package. */
export function unresolvedMapSources(pkg: PackedPackage): string[] {
  const present = new Set(pkg.files);
  const missing: string[] = [];
  for (const map of pkg.files.filter((f) => f.endsWith('.map'))) {
    const { sources = [], sourceRoot = '' } = JSON.parse(readFileSync(path.join(pkg.root, map), 'utf8')) as { sources?: string[]; sourceRoot?: string };
    for (const source of sources) {
      const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(map), sourceRoot, source));
      if (!present.has(resolved)) missing.push(`${map} → ${source}`);
    }
  }
  return missing;
}

/**
 * Every package that a declaration file reachable from `entries` imports (by a bare specifier), following the
 * package's own relative imports: what a user's compiler must find when it checks these types (no skipLibCheck).
 */
export function declarationImports(pkg: PackedPackage, entries: string[]): Map<string, string> {
  const found = new Map<string, string>(); // specifier → the file importing it
  const seen = new Set<string>();
  const queue = entries.map((entry) => path.join(pkg.root, packagePath(entry)));
  const specifiers = /(?:(?:^|[\s}])from\s+|\bimport\s*\(\s*|^\s*import\s*|\/\/\/\s*<reference\s+types=)['"]([^'"]+)['"]/gm;
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(specifiers)) {
      if (specifier.startsWith('.')) queue.push(path.resolve(path.dirname(file), specifier.replace(/\.js$/, '.d.ts')));
      else found.set(specifier, path.relative(pkg.root, file));
    }
  }
  return found;
}

export const isBuiltin = (specifier: string) => specifier.startsWith('node:') || builtinModules.includes(specifier);

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
export const packageName = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');

/** A package installed in this workspace, reached from a published package's `dependencies`. */
export interface InstalledDependency {
  name: string;
  dir: string;
  manifest: Manifest;
  /** The chain of packages that pulls it in. */
  via: string;
}

/** The install-time scripts npm, pnpm and yarn run (a `binding.gyp` makes npm run `node-gyp rebuild`). */
export function installScripts(dep: InstalledDependency): string[] {
  const scripts = ['preinstall', 'install', 'postinstall'].filter((name) => dep.manifest.scripts?.[name]);
  if (!scripts.length && existsSync(path.join(dep.dir, 'binding.gyp'))) scripts.push('binding.gyp');
  return scripts;
}

/** Prebuilt native binaries a package carries (`prebuilds/`, `*.node`, `*.bare`), relative to its folder. */
export function nativeBinaries(dep: InstalledDependency): string[] {
  return (readdirSync(dep.dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((entry) => entry.isFile() && !path.relative(dep.dir, entry.parentPath).split(path.sep).includes('node_modules'))
    .map((entry) => path.relative(dep.dir, path.join(entry.parentPath, entry.name)))
    .filter((file) => /(^|[\\/])prebuilds[\\/]|\.(node|bare)$/.test(file));
}

/** Where Node would find package `name` from `dir`: the nearest `node_modules/name` up the tree. */
function findInstalled(dir: string, name: string): string | undefined {
  for (let at = dir; ; at = path.dirname(at)) {
    if (path.basename(at) !== 'node_modules') {
      const candidate = path.join(at, 'node_modules', name);
      if (existsSync(path.join(candidate, 'package.json'))) return realpathSync(candidate);
    }
    if (path.dirname(at) === at) return undefined;
  }
}

/**
 * Everything `dependencies` pull in, as installed in this workspace (with the optional dependencies that are
 * installed here): what a user of the published package gets besides the package itself.
 */
export function dependencyTree(fromDir: string, dependencies: string[]): InstalledDependency[] {
  const found = new Map<string, InstalledDependency>();
  const visit = (dir: string, name: string, via: string) => {
    const installed = findInstalled(dir, name);
    if (!installed) throw new Error(`${name} (needed by ${via}) is not installed under ${dir}: run pnpm install`);
    if (found.has(installed)) return;
    const manifest = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as Manifest;
    found.set(installed, { name, dir: installed, manifest, via });
    for (const dep of Object.keys(manifest.dependencies ?? {})) visit(installed, dep, `${via} > ${name}`);
    for (const dep of Object.keys(manifest.optionalDependencies ?? {})) if (findInstalled(installed, dep)) visit(installed, dep, `${via} > ${name}`);
  };
  for (const dep of dependencies) visit(realpathSync(fromDir), dep, path.basename(fromDir));
  return [...found.values()];
}
