import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { exec } from '../system/exec.js';
import { giveTo, type RunAs } from '../system/run-as.js';
import type { Cloner } from './cloner.js';

/**
 * overlayfs: the snapshot is the read-only lower layer and each branch writes to its own upper layer.
 * Mounting is O(1), but the first write to a file copies the whole file up. Needs root.
 */
export class OverlayCloner implements Cloner {
  readonly name = 'overlay' as const;
  /** A mounted overlay is not a plain directory, so snapshots of branches are materialised by copy. */
  readonly standalone = false;

  async createSource(dir: string, runAs: RunAs): Promise<void> {
    await mkdir(dir, { mode: 0o700 });
    await giveTo(runAs, dir);
  }

  async clone(source: string, target: string, runAs: RunAs): Promise<void> {
    const layers = overlayLayers(target);
    await mkdir(layers.upper, { recursive: true, mode: 0o700 });
    await mkdir(layers.work, { recursive: true, mode: 0o700 });
    await mkdir(target, { mode: 0o700 });
    // The merged root takes the upper directory's owner and mode; Postgres insists on 0700 and ownership.
    await chmod(layers.upper, 0o700);
    await giveTo(runAs, layers.upper);
    await mountOverlay(source, target);
  }
}

/** Mounts a clone whose layers exist (again, e.g. after a reboot unmounted it). */
export async function mountOverlay(source: string, target: string): Promise<void> {
  const layers = overlayLayers(target);
  await exec('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${source},upperdir=${layers.upper},workdir=${layers.work}`, target]);
}

/** Where overlay keeps a clone's writable layers: beside the mount point, inside the same branch directory. */
export function overlayLayers(target: string): { upper: string; work: string } {
  const base = path.join(path.dirname(target), '.overlay-' + path.basename(target));
  return { upper: path.join(base, 'upper'), work: path.join(base, 'work') };
}
