import { inspect } from 'node:util';
import { terminationGuard, terminationNotice, type LeaseInfo, type PoolClient, type TerminationCause } from '@pgbranch/core/client';

/** Connection settings of the current branch. Printing or serialising it shows the password as `***`. */
export type BranchConnection = Pick<LeaseInfo, 'url' | 'host' | 'port' | 'user' | 'password' | 'database'>;

/** A branch leased from a snapshot taken during the test (see `branch.snapshot()`). */
export interface ChildBranch extends BranchConnection {
  release(): Promise<void>;
}

interface State {
  client: PoolClient;
  lease: LeaseInfo;
  children: Set<string>;
  /** The test file, for messages. */
  file: string;
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

/**
 * Runs a server restart of the current branch with the termination guard up: connections the file
 * left open across it are ended, and instead of an uncaught error (printed with the client's
 * password) the run shows one line naming the file and what to do.
 */
async function restarting<T>(s: State, cause: TerminationCause, fn: () => Promise<T>): Promise<T> {
  let told = false;
  const release = terminationGuard().hold((err) => {
    if (told) return;
    told = true;
    process.stderr.write(terminationNotice(s.file, cause, err) + '\n');
  }, { target: s.lease });
  try {
    return await fn();
  } finally {
    release();
  }
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
    const s = require();
    await restarting(s, 'reset', () => s.client.reset(s.lease.leaseId));
  },
  /**
   * Snapshots the branch's current state; `branch()` on the result leases a new branch of it,
   * released at the end of the file if not before. The server restarts (see `reset()`).
   */
  async snapshot(name?: string): Promise<{ key: string; branch(): Promise<ChildBranch> }> {
    const s = require();
    const { key } = await restarting(s, 'snapshot', () => s.client.snapshot(s.lease.leaseId, name));
    return {
      key,
      branch: async () => {
        const lease = await s.client.acquire(key);
        s.children.add(lease.leaseId);
        return Object.defineProperty(redactedConnection(lease), 'release', {
          enumerable: true,
          value: async () => {
            s.children.delete(lease.leaseId);
            await s.client.release(lease.leaseId);
          },
        }) as ChildBranch;
      },
    };
  },
};
