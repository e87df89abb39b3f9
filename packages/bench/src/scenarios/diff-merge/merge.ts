import { BranchNotFoundError, type NamedBranches, type Snapshot } from '@pgbranch/core';
import { median, methodResult } from '../../stats.js';
import type { MethodResult, Scenario } from '../../types.js';
import { bulkRecipe, ROWS_PER_MB, usableTargets, withEngine } from '../common.js';
import { copyAll } from './copy-all.js';
import { fullCompare } from './full-compare.js';
import { changeCounts, changeRows, describeCounts, sameCounts, type RowCounts } from './row-changes.js';
import { diffMergeSettings, formatMs as ms, sizeLabel } from './settings.js';

type Method = 'fast-forward' | 'three-way' | 'copy';
const LABEL: Record<Method, string> = {
  'fast-forward': 'merge(SOURCE, TARGET): fast-forward',
  'three-way': 'merge(SOURCE, TARGET): three-way',
  copy: 'copy every row of SOURCE into TARGET (one transaction)',
};
const TARGET = 'bench-merge-target';
const SOURCE = 'bench-merge-source';
const TABLE = 'public.bulk';

type MergeSummary = Awaited<ReturnType<NamedBranches['merge']>>;

/**
 * Scenario: bringing one named branch's changes into another. Each sample starts from a new pair: TARGET from the
 * snapshot, SOURCE from TARGET. Fast-forward: only SOURCE changed (X % of the rows: a third each updated, deleted,
 * inserted). Three-way: SOURCE and TARGET each changed X % of different rows. The naive peer, on a pair changed
 * like the three-way one, copies every row of SOURCE over TARGET's in one transaction (what a person without
 * pgbranch would do; it loses TARGET's own changes). Each result is checked by comparing TARGET with SOURCE
 * row by row afterwards (untimed). The three methods take turns, round by round.
 */
export const merge: Scenario = {
  id: 'merge',
  title: 'Merge: named-branch merge (fast-forward, three-way) vs copying every row',
  async run(ctx) {
    const notes: string[] = [];
    const results: MethodResult[] = [];
    const rows: string[][] = [];
    const target = usableTargets(ctx, notes)[0];
    if (!target) return { id: this.id, title: this.title, status: 'not available', reason: notes.join('; '), results, charts: [], notes };
    const settings = diffMergeSettings(ctx);
    const wrong: string[] = [];
    await withEngine(target, async (engine) => {
      const named = engine.named();
      for (const mb of settings.mergeSizes) {
        const size = sizeLabel(mb);
        ctx.progress(`merge ${size}: seeding`);
        const snap = await engine.snapshot({ name: `bench-bulk-${mb}mb`, sql: await bulkRecipe(ctx, mb) });
        const total = Math.round(mb * ROWS_PER_MB);
        const counts = changeCounts(total, settings.mergePercent);
        const methods: Method[] = ['fast-forward', 'three-way', 'copy'];
        const samples = new Map<Method, number[]>(methods.map((m) => [m, []]));
        const rounds = settings.rounds(mb);
        for (let round = 0; round < rounds; round++) {
          for (const method of [...methods.slice(round % 3), ...methods.slice(0, round % 3)]) {
            ctx.progress(`merge ${size}: ${method} ${round + 1}/${rounds}`);
            const sample = await measure(named, snap, method, total, counts);
            samples.get(method)!.push(sample.ms);
            if (sample.problem) wrong.push(`${size}, ${method}, round ${round + 1}: ${sample.problem}`);
            if (round === 0 && sample.result) notes.push(`${size}: ${method} → kind ${sample.result.kind}, ${describeTables(sample.result)}`);
          }
        }
        const group = `${size}, ${settings.mergePercent} % a side`;
        for (const method of methods) results.push(methodResult(LABEL[method], samples.get(method)!, { group, note: method === 'copy' ? undefined : target.label }));
        const copy = median(samples.get('copy')!);
        const ff = median(samples.get('fast-forward')!);
        const three = median(samples.get('three-way')!);
        rows.push([size, `${(counts.inserted + counts.updated + counts.deleted).toLocaleString('en-US')} a side`, ms(ff), ms(three), ms(copy), `${(copy / ff).toFixed(1)}×`, `${(copy / three).toFixed(1)}×`]);
      }
    });
    notes.push(
      `Changes per side: ${settings.mergePercent} % of the rows, a third each updated, deleted and inserted (fast-forward: SOURCE only; three-way and copy: both sides); the two sides of a three-way merge change disjoint rows (odd and even ids) and insert disjoint ids, so there are no conflicts.`,
      'Checked after every sample (untimed): fast-forward and copy leave TARGET equal to SOURCE row for row; a three-way merge leaves TARGET different from SOURCE by exactly TARGET\'s own changes.',
      `Named branches of the local driver, cache directory on ${target.label}'s filesystem; creating the pair and changing the rows are not timed.`,
    );
    const table = { columns: ['snapshot', 'rows changed', 'fast-forward p50', 'three-way p50', 'copy every row p50', 'copy ÷ fast-forward', 'copy ÷ three-way'], rows };
    const charts = [{ kind: 'distribution' as const, title: 'Merge vs copying every row', file: 'merge.svg', yLabel: 'ms', log: true }];
    if (wrong.length) notes.push(...wrong.map((w) => `WRONG: ${w}`));
    const status = wrong.length ? ('failed' as const) : ('ok' as const);
    return { id: this.id, title: this.title, status, reason: wrong.length ? `${wrong.length} sample(s) left TARGET wrong: ${wrong[0]}` : undefined, results, table, charts, notes };
  },
};

interface Sample {
  ms: number;
  result?: MergeSummary;
  /** What was wrong with the outcome, if anything. */
  problem?: string;
}

/** A new TARGET/SOURCE pair, changed for `method`, merged (or copied) under the clock, checked, removed. */
async function measure(named: NamedBranches, snap: Snapshot, method: Method, total: number, counts: RowCounts): Promise<Sample> {
  await removeIfThere(named, SOURCE);
  await removeIfThere(named, TARGET);
  const target = await named.create(TARGET, snap);
  try {
    const source = await named.create(SOURCE, TARGET);
    try {
      const sourceUrl = named.url(source);
      if (method === 'fast-forward') await changeRows(sourceUrl, { rows: total, counts });
      else {
        await changeRows(sourceUrl, { rows: total, counts, slice: { part: 0, of: 2 } });
        await changeRows(named.url(target), { rows: total, counts, slice: { part: 1, of: 2 }, firstInsert: total + counts.inserted + 1 });
      }
      const t0 = performance.now();
      const result = method === 'copy' ? undefined : await named.merge(SOURCE, TARGET);
      if (method === 'copy') await copyAll(sourceUrl, named.url(target));
      const ms = performance.now() - t0;
      const after = named.url(await named.get(TARGET));
      const left = await fullCompare(sourceUrl, after);
      const expected = method === 'three-way' ? counts : { inserted: 0, updated: 0, deleted: 0 };
      const found = left.find((t) => t.table === TABLE) ?? { inserted: 0, updated: 0, deleted: 0 };
      let problem: string | undefined;
      if (result && result.kind !== method) problem = `merge() did a ${result.kind} merge, not ${method}`;
      else if (!sameCounts(found, expected) || left.some((t) => t.table !== TABLE))
        problem = `TARGET differs from SOURCE by ${describeCounts(found)}; expected ${describeCounts(expected)}`;
      return { ms, result, problem };
    } finally {
      await named.destroy(SOURCE);
    }
  } finally {
    await named.destroy(TARGET);
  }
}

async function removeIfThere(named: NamedBranches, name: string): Promise<void> {
  await named.destroy(name).catch((err: unknown) => {
    if (!(err instanceof BranchNotFoundError)) throw err;
  });
}

function describeTables(result: MergeSummary): string {
  if (!result.tables.length) return 'no table counts reported';
  return result.tables.map((t) => `${t.table}: ${describeCounts(t)}`).join('; ');
}
