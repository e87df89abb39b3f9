import { REFERENCE } from '../reference.js';
import { methodResult } from '../stats.js';
import type { MethodResult, Scenario } from '../types.js';
import { fixture, query, usableTargets, withEngine } from './common.js';

/** Scenario 4: reset ("switch") and destroy ("delete") for each available target. */
export const resetDestroy: Scenario = {
  id: 'reset-destroy',
  title: 'Reset ("switch") and destroy ("delete")',
  async run(ctx) {
    const results: MethodResult[] = [];
    const notes: string[] = [];
    for (const target of usableTargets(ctx, notes, { docker: true })) {
      await withEngine(target, async (engine) => {
        const snap = await engine.snapshot({ name: 'sync-store', sql: fixture(ctx) });
        const reset: number[] = [];
        const destroy: number[] = [];
        const n = Math.min(10, ctx.iterations);
        for (let i = 0; i < n; i++) {
          ctx.progress(`${target.label} ${i + 1}/${n}`);
          const branch = await snap.branch();
          await query(branch.url, "update documents set name = name || '!' where workspace_id = 1");
          let t = performance.now();
          await branch.reset();
          await query(branch.url);
          reset.push(performance.now() - t);
          t = performance.now();
          await branch.destroy();
          destroy.push(performance.now() - t);
        }
        results.push(methodResult(`${target.label}: reset → first query`, reset));
        results.push(methodResult(`${target.label}: destroy`, destroy));
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
