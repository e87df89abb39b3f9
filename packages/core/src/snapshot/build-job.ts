import type { RecipeFile } from './recipe.js';
import type { SnapshotMeta } from './snapshot-meta.js';

/** Everything needed to build one snapshot. */
export interface BuildJob {
  name: string;
  hash: string;
  kind: SnapshotMeta['kind'];
  /** The snapshot to start from; none for the base cluster (initdb). */
  from?: SnapshotMeta;
  files: RecipeFile[];
  init?: (url: string) => Promise<void> | void;
  ephemeralOwner?: string;
}
