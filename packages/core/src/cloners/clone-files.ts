import { existsSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import path from 'node:path';
import { mountsUnder, unmount } from '../system/mounts.js';
import { mountOverlay, overlayLayers } from './overlay-cloner.js';
import { removeDir } from './remove-dir.js';

/**
 * What a clone is on disk, whatever the cloner: its data directory, plus (overlay) its layers beside it and a
 * mount. Drivers handle clones through these and never need to know a cloner's layout.
 */

/** Removes a clone: unmounted first (removeDir does), then the data directory and any layers beside it. */
export async function removeClone(dataDir: string): Promise<void> {
  await removeDir(dataDir);
  await removeDir(layersDir(dataDir));
}

/**
 * Moves a clone whose server is stopped to another directory on the same filesystem (a rename, no copy): an
 * overlay clone is unmounted and its layers moved; remountClone() mounts it again at its new place.
 */
export async function moveClone(from: string, to: string): Promise<void> {
  for (const mountPoint of mountsUnder(from)) await unmount(mountPoint);
  if (existsSync(layersDir(from))) await rename(layersDir(from), layersDir(to));
  await rename(from, to);
}

/** Mounts an overlay clone again over its layers when its mount is gone (a reboot, a move); nothing for other cloners. */
export async function remountClone(source: string, dataDir: string): Promise<void> {
  if (mountsUnder(dataDir).length === 0 && existsSync(overlayLayers(dataDir).upper)) await mountOverlay(source, dataDir);
}

function layersDir(dataDir: string): string {
  return path.dirname(overlayLayers(dataDir).upper);
}
