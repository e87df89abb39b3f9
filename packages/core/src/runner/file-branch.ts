import { PgbranchError, UsageError } from '../errors.js';
import { PoolClient } from '../server/pool-client.js';
import { changesLine, NOT_KEPT, type LeaseInfo, type PoolAddress } from '../server/protocol.js';
import { LeaseEnv } from './lease-env.js';
import type { RunnerSettings } from './runner-options.js';
import { terminationGuard, terminationNotice, type TerminationCause } from './termination-guard.js';

export interface FileBranchOptions {
  /** The pool server's address and token, handed to workers by the runner's global setup. */
  address: PoolAddress;
  token: string;
  /** The recipe key the run's global setup served. @default 'default' */
  key?: string;
  /** The test file's absolute path: the server counts files by it, and kept branches are named after it. */
  testPath: string;
  /** The project root: messages name the file relative to it. */
  root: string;
  settings: RunnerSettings;
  /** The environment the file's code reads (`process.env`, or jest's per-file copy of it). */
  env: NodeJS.ProcessEnv;
  /** Shows the lines that say where a kept branch is and what a failed file changed. @default a line on stderr */
  report?: (line: string) => void;
}

/**
 * The branch of one test file in a runner's worker, leased from the run's pool server: what the vitest
 * setup file and the jest environment share. It points the file's environment at the branch, gives it a
 * fresh branch per test with `isolation: 'test'`, keeps the branch of a failed file (or test) with
 * `keepOnFailure`, reports what a failed file changed in its branch with `diffOnFailure`, and, while pgbranch
 * itself ends the branch's connections (reset, snapshot, the end of the file), turns their errors into one line
 * naming the file.
 */
export class FileBranch implements AsyncDisposable {
  private current: LeaseInfo | undefined;
  private readonly children = new Set<string>();
  private failed = false;
  private testsStarted = 0;
  private testName: string | undefined;
  private closed = false;
  private readonly env: LeaseEnv;
  /** The file relative to the project root, for messages. */
  readonly file: string;

  private constructor(
    private readonly client: PoolClient,
    private readonly options: FileBranchOptions,
  ) {
    const { testPath, root } = options;
    this.file = root && testPath.startsWith(root + '/') ? testPath.slice(root.length + 1) : testPath;
    this.env = new LeaseEnv(options.env, options.settings.env);
  }

  /** Connects to the pool server and leases the file's first branch. */
  static async open(options: FileBranchOptions): Promise<FileBranch> {
    const client = await PoolClient.connect(options.address, options.token);
    const file = new FileBranch(client, options);
    try {
      await file.acquire();
    } catch (err) {
      await client.close();
      throw err;
    }
    return file;
  }

  /** The current lease: everything to connect to the branch. */
  get lease(): LeaseInfo {
    if (!this.current) throw new UsageError(`No branch is leased for ${this.file} now (its tests have ended).`);
    return this.current;
  }

  /** A test (or hook) of the current branch failed: with `keepOnFailure`, the branch is kept when it is given back. */
  testFailed(): void {
    this.failed = true;
  }

  /**
   * A test starts. With `isolation: 'test'`, every test after the first gets a new branch: the previous
   * test's branch is given back (or kept, if that test failed) and the environment moves to the new one.
   */
  async testStarting(name: string): Promise<void> {
    if (this.options.settings.isolation !== 'test') return;
    if (this.testsStarted++ > 0) {
      await this.giveBack();
      this.failed = false;
      await this.acquire();
    }
    this.testName = name;
  }

  /** Back to the snapshot, on the same URL (the server restarts: open connections end). */
  async reset(): Promise<void> {
    const lease = this.lease;
    await this.guarded('reset', lease, () => this.client.reset(lease.leaseId));
  }

  /** Snapshots the branch as it is now (the server restarts); `branchOf(key)` leases branches of it. */
  async snapshot(name?: string): Promise<{ key: string; hash: string }> {
    const lease = this.lease;
    return this.guarded('snapshot', lease, () => this.client.snapshot(lease.leaseId, name));
  }

  /** Leases a branch of a snapshot taken by `snapshot()`; given back by `releaseChild()`, or when the file ends. */
  async branchOf(key: string): Promise<LeaseInfo> {
    const lease = await this.client.acquire(key, this.options.testPath);
    this.children.add(lease.leaseId);
    return lease;
  }

  /** Gives back a branch `branchOf()` leased. Giving it back twice is harmless. */
  async releaseChild(leaseId: string): Promise<void> {
    if (!this.children.delete(leaseId)) return;
    await this.client.release(leaseId);
  }

  /** The file ended: gives back (or keeps) its branch and every branch of its snapshots, and disconnects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.giveBack();
    } finally {
      await this.client.close();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async acquire(): Promise<void> {
    const lease = await this.client.acquire(this.options.key ?? 'default', this.options.testPath);
    this.current = lease;
    this.env.use(lease);
  }

  /**
   * Keeping or releasing, the server waits for the file's connections to close (at most `teardownTimeout`),
   * then stops the branch; connections it had to end show as one line naming the file.
   */
  private async giveBack(): Promise<void> {
    const lease = this.current;
    if (!lease) return;
    this.current = undefined;
    for (const child of [...this.children]) await this.releaseChild(child);
    const reason = this.testName === undefined ? this.options.testPath : `${this.options.testPath} > ${this.testName}`;
    const report = this.options.report ?? ((line: string) => process.stderr.write(line + '\n'));
    const shown = this.testName === undefined ? this.file : `${this.file} > ${this.testName}`;
    // The server reads the diff while the branch still runs, before keeping or destroying it.
    const diff = this.failed && this.options.settings.diffOnFailure;
    if (this.failed && this.options.settings.keepOnFailure) {
      const kept = await this.guarded('keep', lease, () => this.client.keep(lease.leaseId, reason, { diff })).catch((err: unknown) => {
        if (!(err instanceof PgbranchError && err.code === NOT_KEPT)) throw err;
        report(`pgbranch: ${err.message}`); // released instead (the diff, if asked for, is in the message)
        return undefined;
      });
      if (!kept) return;
      report(`pgbranch: kept the branch of ${reason} as the named branch ${kept.branch}: ${kept.redactedUrl} (pgbranch url ${kept.branch}; pgbranch rm ${kept.branch})`);
      if (kept.diff !== undefined) report(changesLine(shown, kept.diff));
      return;
    }
    const released = await this.guarded('teardown', lease, async (tell) => {
      const result = await this.client.release(lease.leaseId, { diff });
      if (result.lingering > 0) tell({ message: `${result.lingering} connection(s) ended` });
      return result;
    });
    if (released.diff !== undefined) report(changesLine(shown, released.diff));
  }

  /**
   * Runs something that stops the branch's server with the termination guard up: the errors of the
   * connections it ends become one line naming the file, instead of an uncaught error (which vitest
   * prints with the client object, password included).
   */
  private async guarded<T>(cause: TerminationCause, target: LeaseInfo, fn: (tell: (err?: unknown) => void) => Promise<T>): Promise<T> {
    let told = false;
    const tell = (err?: unknown) => {
      if (told) return;
      told = true;
      process.stderr.write(terminationNotice(this.file, cause, err, this.options.settings.teardownTimeout) + '\n');
    };
    const done = terminationGuard().hold(tell, { target });
    try {
      return await fn(tell);
    } finally {
      done();
    }
  }
}
