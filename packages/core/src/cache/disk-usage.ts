import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { mountsUnder } from '../system/mounts.js';

/**
 * Bytes allocated to the files under `dir` (st_blocks, so sparse files count what they use), measured just
 * before something removes it: what `pgbranch gc` reports as removed. Mount points below `dir` are not entered
 * (an overlay clone's merged view would count its snapshot again; its own writes are in its upper layer, which
 * is counted). Blocks a copy-on-write clone shares with a snapshot that stays are counted too, though they stay
 * allocated. A missing directory counts 0.
 */
export async function diskUsage(dir: string): Promise<number> {
  const skip = new Set(mountsUnder(dir));
  const visit = async (current: string): Promise<number> => {
    const st = await lstat(current).catch(() => undefined);
    if (!st) return 0;
    if (!st.isDirectory()) return st.blocks * 512;
    if (skip.has(current)) return 0;
    let total = st.blocks * 512;
    for (const name of await readdir(current).catch(() => [] as string[])) total += await visit(path.join(current, name));
    return total;
  };
  return visit(path.resolve(dir));
}
