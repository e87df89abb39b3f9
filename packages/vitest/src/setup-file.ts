import { afterAll, beforeEach, expect, inject } from 'vitest';
import { envFor, PoolClient, type LeaseInfo } from '@pgbranch/core/client';
import { current, setCurrent } from './runtime.js';

// Runs in the worker before each test file is imported: lease a branch (top-level await) and point
// the environment at it, so even module-level code sees the right DATABASE_URL.
const provided = inject('pgbranch');
const holder = expect.getState().testPath ?? 'unknown test file';
const client = await PoolClient.connect(provided.address);
let failed = false;
let testsSeen = 0;

function use(lease: LeaseInfo): void {
  Object.assign(process.env, envFor(lease));
  setCurrent({ client, lease, children: new Set() });
}

async function giveBack(reason: string): Promise<void> {
  const state = current();
  if (!state) return;
  setCurrent(undefined);
  for (const child of state.children) await client.release(child);
  if (failed && provided.keepOnFailure) {
    const kept = await client.keep(state.lease.leaseId, reason);
    console.warn(`pgbranch: kept the branch of ${reason} for inspection: ${kept.redactedUrl}${kept.socketDir ? ` (psql -h ${kept.socketDir} -p ${kept.port} -U postgres)` : ''}`);
  } else {
    await client.release(state.lease.leaseId);
  }
}

use(await client.acquire(provided.key, holder));

beforeEach(async (ctx) => {
  if (provided.isolation === 'test' && testsSeen++ > 0) {
    await giveBack(`${holder} > ${ctx.task.name}`);
    failed = false;
    use(await client.acquire(provided.key, holder));
  }
  ctx.onTestFailed(() => {
    failed = true;
  });
});

afterAll(async () => {
  await giveBack(holder);
  await client.close();
});
