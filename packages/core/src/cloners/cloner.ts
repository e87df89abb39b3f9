import type { RunAs } from '../system/run-as.js';

/** How a data directory is copied on write. */
export type ClonerName = 'btrfs' | 'reflink' | 'overlay' | 'copy';

/** Makes writable clones of a snapshot's data directory. */
export interface Cloner {
  readonly name: ClonerName;
  /** Prepares an empty directory that clones can later be made from (btrfs: a subvolume). */
  createSource(dir: string, runAs: RunAs): Promise<void>;
  /**
   * Makes `target` (which must not exist) a writable clone of `source`, owned by the server user.
   * Overlay keeps its upper and work directories beside `target`.
   */
  clone(source: string, target: string, runAs: RunAs): Promise<void>;
  /** True when clones are independent directories that can serve as a snapshot source themselves. */
  readonly standalone: boolean;
}
