import { mkdir } from 'node:fs/promises';
import { giveTo, type RunAs } from '../system/run-as.js';
import type { Cloner } from './cloner.js';
import { copyTree } from './tree-copy.js';

/** Plain byte copy: works on every filesystem; cost grows with the data size. */
export class CopyCloner implements Cloner {
  readonly name = 'copy' as const;
  readonly standalone = true;

  async createSource(dir: string, runAs: RunAs): Promise<void> {
    await mkdir(dir, { mode: 0o700 });
    await giveTo(runAs, dir);
  }

  clone(source: string, target: string, runAs: RunAs): Promise<void> {
    return copyTree(source, target, 'bytes', runAs);
  }
}
