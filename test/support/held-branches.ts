import { expect } from 'vitest';
import type { EngineOptions } from '@pgbranch/core';
import type { BranchResources, DriverChecks } from './driver-checks.js';
import { runScript } from './processes.js';

/** What test/support/scripts/hold-branches.mjs reports once its branches and the snapshot of its first one exist. */
export interface HeldBranches {
  session: string;
  branches: BranchResources[];
}

/**
 * Another process makes `count` branches and a snapshot of the first, then is killed with SIGKILL, leaving them
 * ownerless. Returns what it held and two probes: its servers still running, and its data and snapshots still there.
 */
export async function holdThenKill(checks: DriverChecks, engineOptions: EngineOptions & { cacheDir: string }, count: number, recipe: string) {
  const script = runScript('hold-branches.mjs', [JSON.stringify(engineOptions), String(count), recipe], { untilLine: (l) => l.ready === true });
  const held = (await within(script.done, 60_000, 'hold-branches.mjs did not report its branches')) as unknown as HeldBranches;
  const servers = () => held.branches.flatMap((b) => checks.runningServers(b));
  const remains = () => [...held.branches.flatMap((b) => checks.storage(b)), ...checks.branchSnapshots(engineOptions.cacheDir, held.session)];
  try {
    expect(held.branches).toHaveLength(count);
    expect(servers()).toHaveLength(count);
    expect(checks.branchSnapshots(engineOptions.cacheDir, held.session)).toHaveLength(1);
  } finally {
    script.child.kill('SIGKILL');
    if (script.child.exitCode === null && script.child.signalCode === null) {
      await within(new Promise((r) => script.child.once('exit', r)), 20_000, 'hold-branches.mjs did not exit after SIGKILL');
    }
  }
  // The servers and data outlive their owner until someone reaps them.
  expect(servers()).toHaveLength(count);
  expect(checks.branchSnapshots(engineOptions.cacheDir, held.session)).toHaveLength(1);
  return { held, servers, remains };
}

/** `promise`, or an error naming the step that hung (a test timeout alone does not say which one). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
