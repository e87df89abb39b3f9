import { execFileSync } from 'node:child_process';
import { statfsSync } from 'node:fs';
import { REFERENCE } from '../reference.js';
import { methodResult } from '../stats.js';
import type { MethodResult, Scenario } from '../types.js';
import { bulkRecipe, query, ROWS_PER_MB, usableTargets, withEngine } from './common.js';

const rowsPerGb = ROWS_PER_MB * 1000;

/** Bytes in use on the filesystem holding `dir`, after flushing (btrfs and XFS account lazily). */
function usedBytes(dir: string): number {
  execFileSync('sync', ['-f', dir]);
  const fs = statfsSync(dir);
  return (fs.blocks - fs.bfree) * fs.bsize;
}

/**
 * Scenario 6: space really used by N branches of the 1 GB snapshot, measured as the filesystem's used
 * bytes before and after (shared extents count once), against N full copies.
 */
export const storage: Scenario = {
  id: 'storage',
  title: 'Storage used by N branches of the 1 GB snapshot',
  async run(ctx) {
    const results: MethodResult[] = [];
    const notes: string[] = [];
    const counts = [1, 10, 50];
    const recipe = await bulkRecipe(ctx, 1000);
    for (const target of usableTargets(ctx, notes)) {
      if (target.options.cloner === 'copy') {
        notes.push(`${target.label}: left out: N full copies of 1 GB would take N GB; its cost is N × snapshot by definition`);
        continue;
      }
      await withEngine(target, async (engine) => {
        const snap = await engine.snapshot({ name: 'bulk-1000mb', sql: recipe });
        // overlay copies a whole file up on its first write (the 1 GB table): N × 1 GB, so it stops at 10.
        for (const n of target.options.cloner === 'overlay' ? counts.filter((c) => c <= 10) : counts) {
          const before = usedBytes(target.options.cacheDir!);
          const branches = [];
          for (let i = 0; i < n; i++) {
            ctx.progress(`${target.label}: ${i + 1}/${n} branches`);
            const branch = await snap.branch();
            // Each branch diverges a little, as a test would: 0.1 % of the rows, found through the primary key
            // (a sequential scan would read the whole 1 GB through each branch's own files: minutes, not storage).
            await query(branch.url, `update bulk set payload = md5(payload) where id in (select g * 1000 from generate_series(1, ${rowsPerGb / 1000}) g)`);
            await query(branch.url, 'checkpoint');
            branches.push(branch);
          }
          const used = usedBytes(target.options.cacheDir!) - before;
          for (const b of branches) await b.destroy();
          const full = n * snap.sizeBytes;
          results.push(methodResult(target.label, [used / 1e6], { unit: 'MB', group: `${n} branches`, x: n }));
          notes.push(`${target.label}, ${n} branches: ${(used / 1e6).toFixed(0)} MB used vs ${(full / 1e6).toFixed(0)} MB for full copies — saving ${(100 * (1 - used / full)).toFixed(1)} %`);
        }
      });
    }
    notes.unshift('Used = filesystem used bytes after − before creating N running branches that each updated 0.1 % of the rows and checkpointed; servers and WAL included.');
    return {
      id: this.id,
      title: this.title,
      status: results.length ? 'ok' : 'not available',
      results,
      reference: REFERENCE.storage,
      charts: [{ kind: 'line', title: 'Space used by N branches of a 1 GB snapshot', file: 'storage.svg', xLabel: 'branches', yLabel: 'MB', log: true }],
      notes,
    };
  },
};
