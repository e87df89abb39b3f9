import { inspect } from 'node:util';
import type { LeaseInfo } from '@pgbranch/core/client';
import type { FileBranch } from '@pgbranch/core/runner';

/** Connection settings of the current branch. Printing or serialising it shows the password as `***`. */
export type BranchConnection = Pick<LeaseInfo, 'url' | 'host' | 'port' | 'user' | 'password' | 'database'>;

/**
 * A branch leased from a snapshot taken during the test (see `branch.snapshot()`). Released by `release()`,
 * at the end of an `await using` scope, or at the end of the file, whichever comes first.
 */
export interface ChildBranch extends BranchConnection, AsyncDisposable {
  release(): Promise<void>;
}

let state: FileBranch | undefined;

/** @internal Set by the setup file for the current test file. */
export function setCurrent(next: FileBranch | undefined): void {
  state = next;
}
/** @internal */
export function current(): FileBranch | undefined {
  return state;
}

function require(): FileBranch {
  if (!state) throw new Error('@pgbranch/vitest: no branch is leased here; is pgbranch() in the plugins of this vitest config?');
  return state;
}

/** The URL with its password replaced, for anything printed. */
const redactUrl = (url: string): string => url.replace(/^(postgres(?:ql)?:\/\/[^:@/]*):[^@]*@/, '$1:***@');

/** A connection object that keeps its password out of `console.log`, `util.inspect`, `JSON.stringify` and error reports. */
export function redactedConnection(lease: Pick<LeaseInfo, 'url' | 'host' | 'port' | 'user' | 'password' | 'database'>): BranchConnection {
  const shown = () => ({ url: redactUrl(lease.url), host: lease.host, port: lease.port, user: lease.user, password: '***', database: lease.database });
  const connection = { url: lease.url, host: lease.host, port: lease.port, user: lease.user, password: lease.password, database: lease.database };
  Object.defineProperties(connection, {
    toJSON: { value: shown, enumerable: false },
    [inspect.custom]: { value: () => shown(), enumerable: false },
  });
  return connection;
}

/** The branch of the current test file (or test, with `isolation: 'test'`). */
export const branch = {
  get url(): string {
    return require().lease.url;
  },
  get connection(): BranchConnection {
    return redactedConnection(require().lease);
  },
  /** Name of the branch (for messages). */
  get name(): string {
    return require().lease.branch;
  },
  /**
   * Throws away every change made so far: back to the snapshot, on the same URL. The server restarts,
   * which ends every open connection (as any restart does): close or re-create pools around it.
   */
  async reset(): Promise<void> {
    await require().reset();
  },
  /**
   * Snapshots the branch's current state; `branch()` on the result leases a new branch of it,
   * released at the end of the file if not before. The server restarts (see `reset()`).
   */
  async snapshot(name?: string): Promise<{ key: string; branch(): Promise<ChildBranch> }> {
    const file = require();
    const { key } = await file.snapshot(name);
    return {
      key,
      branch: async () => {
        const lease = await file.branchOf(key);
        const release = () => file.releaseChild(lease.leaseId);
        return Object.defineProperties(redactedConnection(lease), {
          release: { enumerable: true, value: release },
          [Symbol.asyncDispose]: { value: release },
        }) as ChildBranch;
      },
    };
  },
};
