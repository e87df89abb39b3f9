import { TestEnvironment } from 'jest-environment-node';
import { LeaseEnv, PgbranchError, PoolClient, terminationGuard, terminationNotice, type LeaseInfo, type TerminationCause } from '@pgbranch/core/client';
import { ADDRESS_ENV, DEFAULT_TEARDOWN_TIMEOUT_MS, optionsOf, TOKEN_ENV, type JestBranch } from './options.js';

export type { PgbranchJestOptions, JestBranch } from './options.js';

declare global {
  /** This test file's branch, set by the `@pgbranch/jest` environment. */
  // eslint-disable-next-line no-var
  var pgbranch: JestBranch;
}

/** The pool server's token, taken out of this worker's environment by the first file (see {@link TOKEN_ENV}). */
let workerToken: string | undefined;

function takeToken(): string | undefined {
  const fresh = process.env[TOKEN_ENV];
  if (fresh !== undefined) {
    workerToken = fresh; // a new run (watch mode in band) brings a new server and token
    delete process.env[TOKEN_ENV];
  }
  return workerToken;
}

/** The jest-circus events this environment reacts to (jest 29 and 30 send these shapes). */
type TestEvent = { name: string; test?: { name: string } };

/**
 * A jest-environment-node that leases its own PostgreSQL branch for the test file (or each test) and
 * sets DATABASE_URL and PG* in the file's process.env before the file runs.
 */
export default class PgbranchEnvironment extends TestEnvironment {
  private client: PoolClient | undefined;
  private lease: LeaseInfo | undefined;
  private failed = false;
  private testsStarted = 0;
  private readonly testPath: string;
  private readonly file: string;
  private readonly isolation: 'file' | 'test';
  private readonly keepOnFailure: boolean;
  private readonly teardownTimeout: number;
  private readonly env: LeaseEnv;

  constructor(...args: ConstructorParameters<typeof TestEnvironment>) {
    super(...args);
    const [config, context] = args;
    this.testPath = context.testPath;
    const rootDir = config.projectConfig.rootDir;
    this.file = this.testPath.startsWith(rootDir + '/') ? this.testPath.slice(rootDir.length + 1) : this.testPath;
    const options = optionsOf(config.projectConfig);
    this.isolation = options.isolation ?? 'file';
    this.keepOnFailure = options.keepOnFailure ?? false;
    this.teardownTimeout = options.teardownTimeout ?? DEFAULT_TEARDOWN_TIMEOUT_MS;
    this.env = new LeaseEnv(this.global.process.env, options.env);
    delete this.global.process.env[TOKEN_ENV]; // the file's copy of the environment, if made before the token was taken
  }

  override async setup(): Promise<void> {
    await super.setup();
    const address = process.env[ADDRESS_ENV];
    if (!address) {
      throw new PgbranchError(
        'PGBRANCH_JEST_NO_SERVER',
        '@pgbranch/jest: no pool server is running. Add globalSetup: "@pgbranch/jest/global-setup" and ' +
          'globalTeardown: "@pgbranch/jest/global-teardown" to the jest config.',
      );
    }
    this.client = await PoolClient.connect(address, takeToken() ?? '');
    this.use(await this.client.acquire('default', this.testPath));
    const env = this;
    const api: JestBranch = {
      get url() {
        return env.current().url;
      },
      get name() {
        return env.current().branch;
      },
      reset: () => env.guarded('reset', () => env.client!.reset(env.current().leaseId)),
    };
    this.global.pgbranch = api;
  }

  async handleTestEvent(event: TestEvent): Promise<void> {
    if (event.name === 'test_fn_failure' || event.name === 'hook_failure') this.failed = true;
    if (event.name === 'test_start' && this.isolation === 'test' && this.testsStarted++ > 0) {
      await this.giveBack(`${this.testPath} > ${event.test?.name ?? 'a test'}`);
      this.failed = false;
      this.use(await this.client!.acquire('default', this.testPath));
    }
  }

  override async teardown(): Promise<void> {
    try {
      await this.giveBack(this.testPath);
      await this.client?.close();
    } finally {
      await super.teardown();
    }
  }

  private use(lease: LeaseInfo): void {
    this.lease = lease;
    this.env.use(lease);
  }

  private current(): LeaseInfo {
    if (!this.lease) throw new Error('@pgbranch/jest: no branch is leased for this test file.');
    return this.lease;
  }

  /**
   * Runs something that stops the branch's server (reset, release) with the termination guard up: the
   * errors of connections it ends become one line naming the file instead of an uncaught exception.
   */
  private async guarded<T>(cause: TerminationCause, fn: (tell: (err?: unknown) => void) => Promise<T>, target = this.lease): Promise<T> {
    let told = false;
    const tell = (err?: unknown) => {
      if (told) return;
      told = true;
      process.stderr.write(terminationNotice(this.file, cause, err, cause === 'teardown' ? this.teardownTimeout : undefined) + '\n');
    };
    const done = terminationGuard().hold(tell, { target });
    try {
      return await fn(tell);
    } finally {
      done();
    }
  }

  private async giveBack(reason: string): Promise<void> {
    const lease = this.lease;
    const client = this.client;
    if (!lease || !client) return;
    this.lease = undefined;
    // Keeping or releasing, the server waits for this file's connections to close (bounded), then stops the branch.
    if (this.failed && this.keepOnFailure) {
      const kept = await this.guarded('keep', () => client.keep(lease.leaseId, reason), lease);
      process.stderr.write(`pgbranch: kept the branch of ${reason} as the named branch ${kept.branch}: ${kept.redactedUrl} (pgbranch url ${kept.branch}; pgbranch rm ${kept.branch})\n`);
      return;
    }
    await this.guarded(
      'teardown',
      async (tell) => {
        const { lingering } = await client.release(lease.leaseId);
        if (lingering > 0) tell({ message: `${lingering} connection(s) ended` });
      },
      lease,
    );
  }
}
