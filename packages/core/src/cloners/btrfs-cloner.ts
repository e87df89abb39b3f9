import { chmod } from 'node:fs/promises';
import { exec } from '../system/exec.js';
import { giveTo, type RunAs } from '../system/run-as.js';
import type { Cloner } from './cloner.js';

/** btrfs subvolume snapshots: one ioctl, independent of size. Snapshot sources are subvolumes. */
export class BtrfsCloner implements Cloner {
  readonly name = 'btrfs' as const;
  readonly standalone = true;

  async createSource(dir: string, runAs: RunAs): Promise<void> {
    await exec('btrfs', ['subvolume', 'create', dir]);
    await chmod(dir, 0o700);
    await giveTo(runAs, dir);
  }

  async clone(source: string, target: string): Promise<void> {
    // A snapshot keeps the source's owner and mode, so the server user already owns it.
    await exec('btrfs', ['subvolume', 'snapshot', source, target]);
  }
}
