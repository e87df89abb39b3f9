import { runMicroTask } from '../micro.js';
import { REFERENCE } from '../reference.js';
import { methodResult } from '../stats.js';
import type { MethodResult, Scenario, ScenarioResult } from '../types.js';
import { branchCreationTask, fixture, progressOf, usableTargets, withEngine } from './common.js';

/** Scenario 1: cold branch creation (no pool) for every driver × cloner available here. */
export const branchCreation: Scenario = {
  id: 'branch-creation',
  title: 'Branch creation (cold, no pool): branch() + connect + first query',
  async run(ctx) {
    const results: MethodResult[] = [];
    const notes: string[] = [];
    for (const target of usableTargets(ctx, notes, { docker: true })) {
      const samples = await withEngine(target, async (engine) => {
        const snap = await engine.snapshot({ name: 'sync-store', sql: fixture(ctx) });
        if (!notes.some((n) => n.startsWith('PostgreSQL'))) notes.push(`PostgreSQL ${engine.info().postgresVersion}; fixture sync-store, ${(snap.sizeBytes / 1e6).toFixed(0)} MB snapshot`);
        return runMicroTask(branchCreationTask(target.label, snap), { iterations: ctx.iterations, progress: progressOf(ctx) });
      });
      results.push(methodResult(target.label, samples));
    }
    const result: ScenarioResult = {
      id: this.id,
      title: this.title,
      status: results.length ? 'ok' : 'not available',
      results,
      reference: REFERENCE.branchCreation,
      charts: [{ kind: 'distribution', title: 'Cold branch creation → first query', file: 'branch-creation.svg', yLabel: 'ms', log: true }],
      notes,
    };
    return result;
  },
};
