import { mkdir } from 'node:fs/promises';
import { giveTo, type RunAs } from '../system/run-as.js';
import type { Cloner } from './cloner.js';
import { copyTree } from './tree-copy.js';
import { hintCowExtentSize } from './xfs-cow-hint.js';

/** Per-file reflink (FICLONE): files share extents until written; XFS with reflink=1, btrfs, bcachefs… */
export class ReflinkCloner implements Cloner {
  readonly name = 'reflink' as const;
  readonly standalone = true;

  async createSource(dir: string, runAs: RunAs): Promise<void> {
    await mkdir(dir, { mode: 0o700 });
    await giveTo(runAs, dir);
  }

  async clone(source: string, target: string, runAs: RunAs): Promise<void> {
    // Once per source: on XFS a clone then unshares a written page, not 128 KiB around it.
    await hintCowExtentSize(source, runAs);
    await copyTree(source, target, 'reflink', runAs);
  }
}
