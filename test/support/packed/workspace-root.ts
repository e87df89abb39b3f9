import { chmod, mkdir, mkdtemp } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../processes.js';

/**
 * A private directory for one run of the matrix, outside the workspace: nothing above it may hold a
 * node_modules or package.json, or the consumer projects would resolve packages a user does not have.
 */
export async function privateRunDir(): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'pgbranch-packed-'));
  // mkdtemp makes it 0700; postgres runs as an unprivileged user and must reach the projects' binaries.
  await chmod(root, 0o755);
  if (root.startsWith(repoRoot + path.sep)) throw new Error(`${root} is inside the workspace ${repoRoot}: set TMPDIR to a directory outside it`);
  for (let dir = path.dirname(root); ; dir = path.dirname(dir)) {
    for (const entry of ['node_modules', 'package.json']) {
      if (existsSync(path.join(dir, entry))) throw new Error(`${path.join(dir, entry)} would leak into the consumer projects under ${root}: set TMPDIR elsewhere`);
    }
    if (dir === path.dirname(dir)) break;
  }
  for (const sub of ['caches', 'tarballs', 'cells']) await mkdir(path.join(root, sub));
  return root;
}
