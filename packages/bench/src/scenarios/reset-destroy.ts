import type { Branch, Snapshot } from '@pgbranch/core';
import { runMicro, type MicroTask } from '../micro.js';
import { REFERENCE } from '../reference.js';
import { methodResult } from '../stats.js';
import type { MethodResult, Scenario } from '../types.js';
import { fixture, progressOf, query, usableTargets, withEngine } from './common.js';

const DIRTY = "update documents set name = name || '!' where workspace_id = 1";

/** Scenario 4: reset ("switch") and destroy ("delete") for each available target. */
export const resetDestroy: Scenario = {
  id: 'reset-destroy',
  title: 'Reset ("switch") and destroy ("delete")',
  async run(ctx) {
    const results: MethodResult[] = [];
    const notes = ['Every sample gets a branch of its own, made and changed by one UPDATE before the clock starts; a reset sample destroys it after the clock stops.'];
    for (const target of usableTargets(ctx, notes, { docker: true })) {
      await withEngine(target, async (engine) => {
        const snap = await engine.snapshot({ name: 'sync-store', sql: fixture(ctx) });
        const n = Math.min(10, ctx.iterations);
        const tasks = [resetTask(`${target.label}: reset → first query`, snap), destroyTask(`${target.label}: destroy`, snap)];
        for (const [method, samples] of await runMicro(tasks, { iterations: n, progress: progressOf(ctx) })) results.push(methodResult(method, samples));
      });
    }
    return {
      id: this.id,
      title: this.title,
      status: results.length ? 'ok' : 'not available',
      results,
      reference: [...REFERENCE.reset, ...REFERENCE.destroy],
      charts: [{ kind: 'distribution', title: 'Reset and destroy', file: 'reset-destroy.svg', yLabel: 'ms', log: true }],
      notes,
    };
  },
};

/** A branch with a change to undo, made outside the clock: the state a test leaves behind. */
async function dirtyBranch(snap: Snapshot): Promise<Branch> {
  const branch = await snap.branch();
  await query(branch.url, DIRTY);
  return branch;
}

/**
 * Times `timed` on a changed branch made before the clock. A branch still there afterwards (`timed` kept it, or
 * failed) is destroyed after the clock.
 */
function dirtyBranchTask(name: string, snap: Snapshot, timed: (branch: Branch) => Promise<'destroyed' | void>): MicroTask {
  let branch: Branch | undefined;
  return {
    name,
    beforeEach: async () => {
      branch = await dirtyBranch(snap);
    },
    fn: async () => {
      if ((await timed(branch!)) === 'destroyed') branch = undefined;
    },
    afterEach: async () => {
      await branch?.destroy();
      branch = undefined;
    },
  };
}

/** branch.reset() + connect + first query on a changed branch; the branch is made before and destroyed after the clock. */
function resetTask(name: string, snap: Snapshot): MicroTask {
  return dirtyBranchTask(name, snap, async (branch) => {
    await branch.reset();
    await query(branch.url);
  });
}

/** branch.destroy() of a changed branch, made before the clock. */
function destroyTask(name: string, snap: Snapshot): MicroTask {
  return dirtyBranchTask(name, snap, async (branch) => {
    await branch.destroy();
    return 'destroyed';
  });
}
