import { TestEnvironment } from 'jest-environment-node';
import { PgbranchError } from '@pgbranch/core/client';
import { FileBranch, runnerSettings, type RunnerSettings } from '@pgbranch/core/runner';
import { ADDRESS_ENV, optionsOf, TOKEN_ENV, type JestBranch } from './options.js';

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
  private branch: FileBranch | undefined;
  private readonly testPath: string;
  private readonly rootDir: string;
  private readonly settings: RunnerSettings;

  constructor(...args: ConstructorParameters<typeof TestEnvironment>) {
    super(...args);
    const [config, context] = args;
    this.testPath = context.testPath;
    this.rootDir = config.projectConfig.rootDir;
    this.settings = runnerSettings(optionsOf(config.projectConfig));
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
    const branch = await FileBranch.open({
      address,
      token: takeToken() ?? '',
      testPath: this.testPath,
      root: this.rootDir,
      settings: this.settings,
      env: this.global.process.env,
    });
    this.branch = branch;
    const api: JestBranch = {
      get url() {
        return branch.lease.url;
      },
      get name() {
        return branch.lease.branch;
      },
      reset: () => branch.reset(),
    };
    this.global.pgbranch = api;
  }

  async handleTestEvent(event: TestEvent): Promise<void> {
    if (event.name === 'test_fn_failure' || event.name === 'hook_failure') this.branch?.testFailed();
    if (event.name === 'test_start') await this.branch?.testStarting(event.test?.name ?? 'a test');
  }

  override async teardown(): Promise<void> {
    try {
      await this.branch?.close();
    } finally {
      await super.teardown();
    }
  }
}
