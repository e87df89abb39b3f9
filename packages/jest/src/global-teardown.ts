import type { Run } from '@pgbranch/core/runner';
import { ADDRESS_ENV, RUN_KEY, TOKEN_ENV } from './options.js';

/** Stops the pool server (every branch but kept ones) and prints the run's summary. */
export default async function globalTeardown(): Promise<void> {
  const run = (globalThis as Record<symbol, unknown>)[RUN_KEY] as Run | undefined;
  if (!run) return;
  delete (globalThis as Record<symbol, unknown>)[RUN_KEY];
  delete process.env[ADDRESS_ENV];
  delete process.env[TOKEN_ENV];
  await run.end();
}
