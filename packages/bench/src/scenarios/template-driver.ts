import path from 'node:path';
import { createEngine, type ClonerName, type Engine, type Snapshot } from '@pgbranch/core';
import { runMicro } from '../micro.js';
import { methodResult } from '../stats.js';
import type { BenchContext, MethodResult, Scenario, ScenarioResult } from '../types.js';
import { branchCreationTask, fixture, progressOf } from './common.js';

/** A filesystem to compare the drivers on, and the cloner the local driver uses there. */
interface Filesystem {
  label: string;
  dir: string | undefined;
  cloner: ClonerName | undefined;
  unavailable: string;
}

function filesystems(ctx: BenchContext): Filesystem[] {
  return [
    // The work disk: auto picks overlay as root, else copy (the template server then copies its snapshot once).
    { label: 'work disk', dir: ctx.workDir, cloner: undefined, unavailable: '' },
    { label: 'XFS reflink', dir: ctx.reflinkDir, cloner: 'reflink', unavailable: 'no reflink filesystem (PGBRANCH_TEST_REFLINK_DIR)' },
    { label: 'btrfs', dir: ctx.btrfsDir, cloner: 'btrfs', unavailable: 'no btrfs filesystem (PGBRANCH_TEST_BTRFS_DIR)' },
  ];
}

/**
 * The template driver (a database per branch, CREATE DATABASE … TEMPLATE in one server per snapshot) against the
 * local driver (a server per branch on a clone), on the same snapshot in one cache directory, samples interleaved
 * so that both see the same machine load. Branch creation = branch() + connect + first query.
 */
export const templateDriver: Scenario = {
  id: 'template-driver',
  title: 'Branch creation, template driver vs local driver (interleaved, per filesystem)',
  async run(ctx) {
    const results: MethodResult[] = [];
    const notes: string[] = [];
    for (const fs of filesystems(ctx)) {
      if (!fs.dir) {
        notes.push(`${fs.label}: not available — ${fs.unavailable}`);
        continue;
      }
      const cacheDir = path.join(fs.dir, 'bench-template-driver');
      const local = await createEngine({ cacheDir, driver: 'local', ...(fs.cloner ? { cloner: fs.cloner } : {}) });
      let template: Engine | undefined;
      try {
        template = await createEngine({ cacheDir, driver: 'template', ...(fs.cloner ? { cloner: fs.cloner } : {}) });
        const snaps: Array<[string, Snapshot]> = [
          [`pgbranch local ${local.info().cloner} (${fs.label})`, await local.snapshot({ name: 'sync-store', sql: fixture(ctx) })],
          [`pgbranch template (${fs.label})`, await template.snapshot({ name: 'sync-store', sql: fixture(ctx) })],
        ];
        notes.push(`${fs.label}: template ${template.info().clonerReason.split(';')[0]}`);
        // One sample of each in turn (a round each), so that both see the same machine load. The warm-up starts the
        // template driver's server (once per snapshot and engine).
        const n = ctx.iterations * 2;
        const measured = await runMicro(snaps.map(([label, snap]) => branchCreationTask(label, snap)), { iterations: n, rounds: n, progress: progressOf(ctx) });
        for (const [method, samples] of measured) results.push(methodResult(method, samples));
      } finally {
        await template?.close();
        await local.close();
      }
    }
    const result: ScenarioResult = {
      id: this.id,
      title: this.title,
      status: results.length ? 'ok' : 'not available',
      results,
      charts: [{ kind: 'distribution', title: 'Cold branch creation → first query, template vs local driver', file: 'template-driver.svg', yLabel: 'ms', log: true }],
      notes: [
        ...notes,
        'Same snapshot (sync-store) and cache directory for both drivers; one sample of each in turn.',
        'The template driver keeps two copies of the template ahead and replaces a taken one in the background, partly while the next local sample runs.',
      ],
    };
    return result;
  },
};
