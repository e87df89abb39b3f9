import path from 'node:path';
import { Branch, type BranchOptions } from '../branch/branch.js';
import type { EngineContext } from '../engine/context.js';
import type { SnapshotMeta } from './snapshot-meta.js';

/** An immutable, checkpointed Postgres state in the cache, named by the content hash of its recipe. */
export class Snapshot {
  /** @internal */
  constructor(
    private readonly ctx: EngineContext,
    readonly meta: SnapshotMeta,
    /** True when this snapshot was found in the cache instead of being seeded now. */
    readonly reused: boolean,
  ) {}

  get name(): string {
    return this.meta.name;
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
