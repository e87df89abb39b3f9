import path from 'node:path';
import { Branch, type BranchOptions } from './branch.js';
import type { EngineContext } from '../engine/context.js';
import type { SnapshotMeta } from '../snapshot/snapshot-meta.js';

/**
 * An immutable, checkpointed Postgres state in the cache, identified by the content hash of its recipe. The cache
 * entry is shared by every recipe with that hash; `name` is the name this snapshot was asked for.
 */
export class Snapshot {
  /** @internal */
  constructor(
    private readonly ctx: EngineContext,
    readonly meta: SnapshotMeta,
    /** True when this snapshot was found in the cache instead of being seeded now. */
    readonly reused: boolean,
    private readonly requestedName?: string,
  ) {}

  /** The name it was asked for (a recipe's `name`), even when the cache entry was built under another one. */
  get name(): string {
    return this.requestedName ?? this.meta.name;
  }

  /** @internal The same snapshot, asked for under another name. */
  as(name: string): Snapshot {
    return name === this.name ? this : new Snapshot(this.ctx, this.meta, this.reused, name);
  }
  get hash(): string {
    return this.meta.hash;
  }
  /** Apparent size of the data directory. */
  get sizeBytes(): number {
    return this.meta.sizeBytes;
  }
  /** The snapshot's data directory with the local driver (read-only: never start a server on it). */
  get dataDir(): string {
    return path.join(this.ctx.layout.snapshot(this.hash), 'data');
  }

  /** Starts a new writable branch: a copy-on-write clone of this snapshot with its own server. */
  branch(options: BranchOptions = {}): Promise<Branch> {
    return Branch.create(this.ctx, this, options);
  }
}
