import { chmod, copyFile, cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { repoRoot } from '../processes.js';
import type { Cell } from './cells.js';
import type { Tarballs } from './toolchain.js';

/**
 * Writes a fresh consumer project for a cell into `dir`: the template's suite and config from
 * fixtures/consumers, the pgbranch tarballs under vendor/, and the package.json (plus the package
 * manager's own settings) a user would have.
 */
export async function writeConsumerProject(dir: string, cell: Cell, tarballs: Tarballs): Promise<void> {
  await cp(path.join(repoRoot, 'fixtures/consumers', cell.template), dir, { recursive: true });
  const vendor = path.join(dir, 'vendor');
  await mkdir(vendor);
  const runnerPackage = cell.template === 'vitest-esm' ? 'vitest' : 'jest';
  // @pgbranch/core@0.1.0 is not on the registry: the runner package's dependency on it must resolve to
  // the tarball too, through the package manager's override mechanism.
  const core = `file:./vendor/${path.basename(tarballs.core)}`;
  const runner = `file:./vendor/${path.basename(tarballs[runnerPackage])}`;
  for (const tgz of [tarballs.core, tarballs[runnerPackage]]) await copyFile(tgz, path.join(vendor, path.basename(tgz)));

  const manifest: Record<string, unknown> = {
    name: `pgbranch-consumer-${cell.template}`,
    private: true,
    ...(cell.template === 'vitest-esm' ? { type: 'module' } : {}),
    devDependencies: { [`@pgbranch/${runnerPackage}`]: runner, ...cell.devDependencies },
  };
  const { manager } = cell;
  if (manager.kind === 'npm') manifest.overrides = { '@pgbranch/core': core };
  if (manager.kind === 'yarn') manifest.resolutions = { '@pgbranch/core': core };
  await writeFile(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');

  if (manager.kind === 'pnpm') {
    // pnpm 12 reads overrides from pnpm-workspace.yaml; nothing else is set, so builds stay unapproved.
    await writeFile(path.join(dir, 'pnpm-workspace.yaml'), `overrides:\n  '@pgbranch/core': '${core}'\n`);
  }
  if (manager.kind === 'yarn') {
    const settings = [`nodeLinker: ${manager.nodeLinker}`, 'enableTelemetry: false'];
    if (manager.enableScripts !== undefined) settings.push(`enableScripts: ${manager.enableScripts}`);
    await writeFile(path.join(dir, '.yarnrc.yml'), settings.join('\n') + '\n');
    // An (empty) lockfile marks the project root, so yarn does not look for one in parent directories.
    await writeFile(path.join(dir, 'yarn.lock'), '');
  }
  // pgbranch runs postgres as an unprivileged user when started as root: it must reach the binaries.
  await chmod(dir, 0o755);
}
