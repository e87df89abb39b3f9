import type { NamedBranchMeta } from '../../cache/named-record.js';
import { PgbranchError } from '../../errors.js';
import type { BuildJob } from '../../snapshot/build-job.js';
import type { StoredSnapshot } from '../../snapshot/stored-snapshot.js';
import type { BranchAddress } from '../driver.js';
import type { AdoptSource, LiveServer, NamedRuntime } from '../named-runtime.js';

/**
 * Named branches of the template driver: the local driver's runtime (a server of its own per named branch, on a
 * clone of the snapshot's data directory), since a named branch outlives the engine whose template hosts die
 * with it. What only exists inside a template host (snapshots of branches, the databases of engine branches)
 * has no data directory to clone or move, and is refused with the way out.
 */
export class TemplateNamedRuntime implements NamedRuntime {
  constructor(
    private readonly local: NamedRuntime,
    private readonly isHosted: (hash: string) => boolean,
  ) {}

  recordFields(): Partial<NamedBranchMeta> {
    return this.local.recordFields();
  }
  prepare(meta: NamedBranchMeta, parent: StoredSnapshot): Promise<void> {
    if (this.isHosted(parent.hash)) {
      throw new PgbranchError(
        'PGBRANCH_TEMPLATE_UNSUPPORTED',
        `Branch "${meta.name}": snapshot "${parent.name}" is a snapshot of a branch kept as a template database, which a named branch (a server of its own) cannot start from. Make it from a recipe's snapshot, or use driver 'local'.`,
      );
    }
    return this.local.prepare(meta, parent);
  }
  start(meta: NamedBranchMeta, parent: StoredSnapshot, password: string): Promise<void> {
    return this.local.start(meta, parent, password);
  }
  live(meta: NamedBranchMeta): Promise<LiveServer | undefined> {
    return this.local.live(meta);
  }
  stop(meta: NamedBranchMeta, server: LiveServer, mode: 'fast' | 'immediate'): Promise<void> {
    return this.local.stop(meta, server, mode);
  }
  discard(meta: NamedBranchMeta): Promise<void> {
    return this.local.discard(meta);
  }
  removeOutside(meta: NamedBranchMeta): Promise<void> {
    return this.local.removeOutside(meta);
  }
  freeze(meta: NamedBranchMeta, job: Omit<BuildJob, 'files' | 'kind'>): Promise<StoredSnapshot> {
    return this.local.freeze(meta, job);
  }
  /** An engine branch is a database in a shared server: there is no data directory of its own to move. */
  async adopt(meta: NamedBranchMeta, _source: AdoptSource, _parent: StoredSnapshot): Promise<StoredSnapshot> {
    throw new PgbranchError(
      'PGBRANCH_TEMPLATE_UNSUPPORTED',
      `Branch "${meta.name}": the template driver cannot keep a test branch as a named branch (it is a database in a shared server, with no data directory of its own). Run with driver 'local' to keep failed branches.`,
    );
  }
  address(meta: NamedBranchMeta, password: string): BranchAddress {
    return this.local.address(meta, password);
  }
}
