import { afterAll, beforeEach, expect, inject } from 'vitest';
import { LeaseEnv, PoolClient, terminationGuard, terminationNotice, type LeaseInfo } from '@pgbranch/core/client';
import { current, setCurrent } from './runtime.js';

// Runs in the worker before each test file is imported: lease a branch (top-level await) and point
// the environment at it, so even module-level code sees the right DATABASE_URL.
const provided = inject('pgbranch');
const holder = expect.getState().testPath ?? 'unknown test file';
const file = provided.root && holder.startsWith(provided.root + '/') ? holder.slice(provided.root.length + 1) : holder;
const client = await PoolClient.connect(provided.address, provided.token);
const env = new LeaseEnv(process.env, provided.env);
let failed = false;
let testsSeen = 0;

function use(lease: LeaseInfo): void {
  env.use(lease);
  setCurrent({ client, lease, children: new Set(), file });
}

async function giveBack(reason: string): Promise<void> {
  const state = current();
  if (!state) return;
  setCurrent(undefined);
  for (const child of state.children) await client.release(child);
  // Keeping or releasing, the server waits for this file's connections to close (bounded), then stops
  // the branch; the guard turns the errors of connections it had to end into one line naming the file.
  const keeping = failed && provided.keepOnFailure;
  const cause = keeping ? 'keep' : 'teardown';
  let told = false;
  const tell = (err?: unknown) => {
    if (told) return;
    told = true;
    process.stderr.write(terminationNotice(file, cause, err, provided.teardownTimeout) + '\n');
  };
  const done = terminationGuard().hold(tell, { target: state.lease });
  try {
    if (keeping) {
      const kept = await client.keep(state.lease.leaseId, reason);
      console.warn(`pgbranch: kept the branch of ${reason} as the named branch ${kept.branch}: ${kept.redactedUrl} (pgbranch url ${kept.branch}; pgbranch rm ${kept.branch})`);
      return;
    }
    const { lingering } = await client.release(state.lease.leaseId);
    if (lingering > 0) tell({ message: `${lingering} connection(s) ended` });
  } finally {
    done();
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
