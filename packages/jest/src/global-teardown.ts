import { runSummary, type PoolServer } from '@pgbranch/core';
import { ADDRESS_ENV, SERVER_KEY, TOKEN_ENV } from './options.js';

/** Stops the pool server (every branch but kept ones) and prints the run's summary. */
export default async function globalTeardown(): Promise<void> {
  const held = (globalThis as Record<symbol, unknown>)[SERVER_KEY] as { server: PoolServer; summary: boolean } | undefined;
  if (!held) return;
  delete (globalThis as Record<symbol, unknown>)[SERVER_KEY];
  delete process.env[ADDRESS_ENV];
  delete process.env[TOKEN_ENV];
  const { summary, kept } = runSummary(held.server);
  await held.server.close();
  const lines = [...(summary && held.summary ? [summary] : []), ...kept];
  process.stdout.write(lines.map((l) => l + '\n').join(''));
}
