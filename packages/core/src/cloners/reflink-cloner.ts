import { mkdir } from 'node:fs/promises';
import { giveTo, type RunAs } from '../system/run-as.js';
import type { Cloner } from './cloner.js';
import { copyTree } from './tree-copy.js';

/** Per-file reflink (FICLONE): files share extents until written; XFS with reflink=1, btrfs, bcachefs… */
export class ReflinkCloner implements Cloner {
  readonly name = 'reflink' as const;
  readonly standalone = true;

  async createSource(dir: string, runAs: RunAs): Promise<void> {
    await mkdir(dir, { mode: 0o700 });
    await giveTo(runAs, dir);
  }

  clone(source: string, target: string, runAs: RunAs): Promise<void> {
    return copyTree(source, target, 'reflink', runAs);
  }
}
