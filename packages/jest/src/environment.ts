import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import type { Circus } from '@jest/types';
import { TestEnvironment } from 'jest-environment-node';
import { envFor, PgbranchError, PoolClient, type LeaseInfo } from '@pgbranch/core/client';
import { ADDRESS_ENV, optionsOf, type JestBranch } from './options.js';

export type { PgbranchJestOptions, JestBranch } from './options.js';

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
  private readonly isolation: 'file' | 'test';
  private readonly keepOnFailure: boolean;

  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    this.testPath = context.testPath;
    const options = optionsOf(config.projectConfig);
    this.isolation = options.isolation ?? 'file';
    this.keepOnFailure = options.keepOnFailure ?? false;
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
    this.client = await PoolClient.connect(address);
    this.use(await this.client.acquire('default', this.testPath));
    const env = this;
    const api: JestBranch = {
      get url() {
        return env.current().url;
      },
      get name() {
        return env.current().branch;
      },
      reset: () => env.client!.reset(env.current().leaseId),
    };
    this.global.pgbranch = api;
  }

  async handleTestEvent(event: Circus.Event): Promise<void> {
    if (event.name === 'test_fn_failure' || event.name === 'hook_failure') this.failed = true;
    if (event.name === 'test_start' && this.isolation === 'test' && this.testsStarted++ > 0) {
      await this.giveBack(`${this.testPath} > ${event.test.name}`);
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
    Object.assign(this.global.process.env, envFor(lease));
  }

  private current(): LeaseInfo {
    if (!this.lease) throw new Error('@pgbranch/jest: no branch is leased for this test file.');
    return this.lease;
  }

  private async giveBack(reason: string): Promise<void> {
    const lease = this.lease;
    if (!lease || !this.client) return;
    this.lease = undefined;
    if (this.failed && this.keepOnFailure) {
      const kept = await this.client.keep(lease.leaseId, reason);
      const viaSocket = kept.socketDir ? ` (psql -h ${kept.socketDir} -p ${kept.port} -U postgres)` : '';
      process.stderr.write(`pgbranch: kept the branch of ${reason} for inspection: ${kept.redactedUrl}${viaSocket}\n`);
    } else {
      await this.client.release(lease.leaseId);
    }
  }
}
