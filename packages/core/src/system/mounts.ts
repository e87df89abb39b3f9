import { readFileSync } from 'node:fs';
import path from 'node:path';
import { exec } from './exec.js';

/**
 * Mount points at or below `dir`, deepest first (so they can be unmounted in order). Only Linux cloners
 * mount (overlay), so elsewhere there are none to find (and no /proc to read).
 */
export function mountsUnder(dir: string, platform: NodeJS.Platform = process.platform): string[] {
  if (platform !== 'linux') return [];
  let info = '';
  try {
    info = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const root = path.resolve(dir);
  const found: string[] = [];
  for (const line of info.split('\n')) {
    const mountPoint = line.split(' ')[4];
    if (!mountPoint) continue;
    const decoded = mountPoint.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (decoded === root || decoded.startsWith(root + path.sep)) found.push(decoded);
  }
  return found.sort((a, b) => b.length - a.length);
}

/** Unmounts a mount point; falls back to a lazy unmount when it is busy. */
export async function unmount(mountPoint: string): Promise<void> {
  try {
    await exec('umount', [mountPoint]);
  } catch {
    await exec('umount', ['-l', mountPoint]);
  }
}
