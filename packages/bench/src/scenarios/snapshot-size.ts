import { runMicroTask } from '../micro.js';
import { REFERENCE } from '../reference.js';
import { methodResult } from '../stats.js';
import type { MethodResult, Scenario } from '../types.js';
import { branchCreationTask, bulkRecipe, progressOf, usableTargets, withEngine } from './common.js';

/** Scenario 2: creation time against snapshot size — flat for copy-on-write, growing for plain copy. */
export const snapshotSize: Scenario = {
  id: 'snapshot-size',
  title: 'Branch creation vs snapshot size',
  async run(ctx) {
    const sizes = ctx.full ? [40, 250, 1000, 5000] : [40, 250, 1000];
    const results: MethodResult[] = [];
    const notes: string[] = [];
    const recipes = new Map<number, string[]>();
    for (const mb of sizes) recipes.set(mb, mb === 40 ? [] : await bulkRecipe(ctx, mb));
    for (const target of usableTargets(ctx, notes)) {
      await withEngine(target, async (engine) => {
        for (const mb of sizes) {
          ctx.progress(`${target.label}: seeding ${mb} MB`);
          const snap = await engine.snapshot({ name: `bulk-${mb}mb`, sql: recipes.get(mb) });
          // Copying gigabytes per sample is slow by nature: fewer samples keep the run bounded.
          const n = target.options.cloner === 'copy' && mb >= 1000 ? Math.min(5, ctx.iterations) : Math.min(10, ctx.iterations);
          const samples = await runMicroTask(branchCreationTask(`${target.label} ${mb} MB`, snap), { iterations: n, progress: progressOf(ctx) });
          results.push(methodResult(target.label, samples, { group: `${(snap.sizeBytes / 1e6).toFixed(0)} MB`, x: snap.sizeBytes / 1e6 }));
        }
      });
    }
    for (const label of new Set(results.map((r) => r.method))) {
      const rows = results.filter((r) => r.method === label);
      notes.push(`${label}: largest ÷ smallest p50 = ${(rows.at(-1)!.summary.p50 / rows[0]!.summary.p50).toFixed(2)}×`);
    }
    return {
      id: this.id,
      title: this.title,
      status: results.length ? 'ok' : 'not available',
      results,
      reference: REFERENCE.creationVsSize,
      charts: [{ kind: 'line', title: 'Branch creation p50 (bar to p95) vs snapshot size', file: 'snapshot-size.svg', xLabel: 'snapshot MB', yLabel: 'ms', log: true }],
      notes,
    };
  },
};
