import type { LeaseInfo, PoolClient } from '@pgbranch/core/client';

/** Connection settings of the current branch. */
export type BranchConnection = Pick<LeaseInfo, 'url' | 'host' | 'port' | 'user' | 'password' | 'database'>;

/** A branch leased from a snapshot taken during the test (see `branch.snapshot()`). */
export interface ChildBranch extends BranchConnection {
  release(): Promise<void>;
}

interface State {
  client: PoolClient;
  lease: LeaseInfo;
  children: Set<string>;
}

let state: State | undefined;

/** @internal Set by the setup file for the current test file (or test). */
export function setCurrent(next: State | undefined): void {
  state = next;
}
/** @internal */
export function current(): State | undefined {
  return state;
}

function require(): State {
  if (!state) throw new Error('@pgbranch/vitest: no branch is leased here; is pgbranch() in the plugins of this vitest config?');
  return state;
}

const connectionOf = (lease: LeaseInfo): BranchConnection => ({
  url: lease.url,
  host: lease.host,
  port: lease.port,
  user: lease.user,
  password: lease.password,
  database: lease.database,
});

/** The branch of the current test file (or test, with `isolation: 'test'`). */
export const branch = {
  get url(): string {
    return require().lease.url;
  },
  get connection(): BranchConnection {
    return connectionOf(require().lease);
  },
  /** Name of the branch (for messages). */
  get name(): string {
    return require().lease.branch;
  },
  /** Throws away every change made so far: back to the snapshot, on the same URL. */
  async reset(): Promise<void> {
    const s = require();
    await s.client.reset(s.lease.leaseId);
  },
  /**
   * Snapshots the branch's current state; `branch()` on the result leases a new branch of it,
   * released at the end of the file if not before.
   */
  async snapshot(name?: string): Promise<{ key: string; branch(): Promise<ChildBranch> }> {
    const s = require();
    const { key } = await s.client.snapshot(s.lease.leaseId, name);
    return {
      key,
      branch: async () => {
        const lease = await s.client.acquire(key);
        s.children.add(lease.leaseId);
        return {
          ...connectionOf(lease),
          release: async () => {
            s.children.delete(lease.leaseId);
            await s.client.release(lease.leaseId);
          },
        };
      },
    };
  },
};
