import type { RecipeFile } from './recipe.js';
import type { StoredSnapshot } from './stored-snapshot.js';

/** Everything needed to build one snapshot. */
export interface BuildJob {
  name: string;
  hash: string;
  kind: StoredSnapshot['kind'];
  /** The snapshot to start from; none for the base cluster (initdb). */
  from?: StoredSnapshot;
  files: RecipeFile[];
  init?: (url: string) => Promise<void> | void;
  ephemeralOwner?: string;
}
