import type { Branch, DatabaseDiff, Snapshot } from '@pgbranch/core';
import { median, methodResult } from '../../stats.js';
import type { MethodResult, Scenario } from '../../types.js';
import { bulkRecipe, ROWS_PER_MB, usableTargets, withEngine } from '../common.js';
import { fullCompare } from './full-compare.js';
import { connect } from './pg-client.js';
import { changeCounts, changeRows, describeCounts, sameCounts, type RowCounts } from './row-changes.js';
import { diffMergeSettings, formatMs as ms, sizeLabel } from './settings.js';

const DIFF = 'branch.diff() (changed pages)';
const NAIVE = 'full compare (every row of both sides, in key order)';
const TABLE = 'public.bulk';

/**
 * Scenario: what a branch changed since its snapshot — `branch.diff()`, which reads page LSNs and only the rows of
 * changed pages, against the naive full compare (every row of both sides read in key order and merge-joined in
 * Node; the base side is a fresh branch of the same snapshot). Generated snapshots (one `bulk` table, ~870 bytes
 * a row) of each size; for each changed fraction a new branch gets that share of its rows updated, deleted and
 * inserted (a third each, spread at random), then both methods run on it, alternating round by round. Both must
 * find the counts the changes made.
 */
export const diff: Scenario = {
  id: 'diff',
  title: 'Diff: branch.diff() (changed pages) vs a full compare of both sides',
  async run(ctx) {
    const notes: string[] = [];
    const results: MethodResult[] = [];
    const rows: string[][] = [];
    const target = usableTargets(ctx, notes)[0];
    if (!target) return { id: this.id, title: this.title, status: 'not available', reason: notes.join('; '), results, charts: [], notes };
    const settings = diffMergeSettings(ctx);
    let wrong = 0;
    await withEngine(target, async (engine) => {
      for (const mb of settings.diffSizes) {
        const size = sizeLabel(mb);
        ctx.progress(`diff ${size}: seeding`);
        const snap = await engine.snapshot({ name: `bench-bulk-${mb}mb`, sql: await bulkRecipe(ctx, mb) });
        const base = await snap.branch();
        try {
          for (const percent of settings.diffPercents) {
            const config = await measure(snap, base, { mb, percent, rounds: settings.rounds(mb), progress: (m) => ctx.progress(`diff ${size}, ${percent} %: ${m}`) });
            const group = `${size}, ${percent} %`;
            results.push(methodResult(DIFF, config.diff, { group, note: target.label }));
            results.push(methodResult(NAIVE, config.naive, { group }));
            const ratio = median(config.naive) / median(config.diff);
            const s = config.stats;
            if (!config.agree) wrong++;
            rows.push([
              size,
              `${percent} % (${(config.expected.inserted + config.expected.updated + config.expected.deleted).toLocaleString('en-US')} rows)`,
              ms(median(config.diff)),
              ms(median(config.naive)),
              `${ratio.toFixed(1)}×`,
              `${s.pagesRead.toLocaleString('en-US')} / ${s.pagesChanged.toLocaleString('en-US')} of ${config.pages.toLocaleString('en-US')}`,
              s.rowVersions.toLocaleString('en-US'),
              ms(config.first),
              config.agree ? 'yes' : 'NO',
            ]);
            notes.push(
              `${group}: made ${describeCounts(config.expected)} in ${ms(config.changeMs)}; branch.diff() found ${describeCounts(config.found)}` +
                ` (compared: ${config.compared}; comparing alone, stats.durationMs p50 ${ms(median(config.comparing))}); the full compare found ${describeCounts(config.naiveFound)} — ${config.agree ? 'all three agree' : 'THEY DISAGREE'}.`,
            );
          }
        } finally {
          await base.destroy();
        }
      }
    });
    notes.push(
      'Pages read / changed: heap pages whose LSN diff read (both sides) / pages found changed, of the table\'s pages on the branch. ' +
        'First diff: the first branch.diff() after the changes, left out of the samples — it pays for the CHECKPOINT that writes the changed pages.',
      `Rows are changed in one transaction per configuration (a third updated, a third deleted, a third inserted after the last id); updated and deleted rows are drawn at random from the whole table. ` +
        `branch.diff() starts its own base side (a short-lived branch of the snapshot) inside its time; the full compare's base side is a second branch of the same snapshot, started once per size and not timed. Cache directory on ${target.label}'s filesystem.`,
    );
    const table = {
      columns: ['snapshot', 'rows changed', 'diff p50', 'full compare p50', 'full ÷ diff', 'pages read / changed', 'row versions', 'first diff', 'same counts'],
      rows,
    };
    const charts = [{ kind: 'distribution' as const, title: 'branch.diff() vs a full compare of both sides', file: 'diff.svg', yLabel: 'ms', log: true }];
    if (wrong) return { id: this.id, title: this.title, status: 'failed', reason: `${wrong} configuration(s) where the methods found different counts`, results, table, charts, notes };
    return { id: this.id, title: this.title, status: 'ok', results, table, charts, notes };
  },
};

interface Measured {
  diff: number[];
  naive: number[];
  first: number;
  /** diff's own stats.durationMs per sample: the comparison without starting the base side. */
  comparing: number[];
  changeMs: number;
  expected: RowCounts;
  found: RowCounts;
  naiveFound: RowCounts;
  compared: string;
  agree: boolean;
  stats: DatabaseDiff['stats'];
  pages: number;
}

/** One configuration: a new branch with `percent` % of the rows changed, both methods timed on it `rounds` times each. */
async function measure(snap: Snapshot, base: Branch, o: { mb: number; percent: number; rounds: number; progress(message: string): void }): Promise<Measured> {
  const rows = Math.round(o.mb * ROWS_PER_MB);
  const expected = changeCounts(rows, o.percent);
  const head = await snap.branch();
  try {
    o.progress('changing rows');
    let t0 = performance.now();
    await changeRows(head.url, { rows, counts: expected });
    const changeMs = performance.now() - t0;
    t0 = performance.now();
    let last = await head.diff();
    const first = performance.now() - t0;
    const agreeing = [countsOf(last)];
    const naiveFound: RowCounts[] = [];
    const diff: number[] = [];
    const naive: number[] = [];
    const comparing: number[] = [];
    let stray = false; // a change found outside the one table that was changed
    for (let round = 0; round < o.rounds; round++) {
      // Alternate which method goes first, so both see the same machine load on average.
      for (const method of round % 2 ? ['naive', 'diff'] : ['diff', 'naive']) {
        o.progress(`${method === 'diff' ? 'branch.diff()' : 'full compare'} ${round + 1}/${o.rounds}`);
        t0 = performance.now();
        if (method === 'diff') {
          last = await head.diff();
          diff.push(performance.now() - t0);
          comparing.push(last.stats.durationMs);
          agreeing.push(countsOf(last));
        } else {
          const tables = await fullCompare(base.url, head.url);
          naive.push(performance.now() - t0);
          naiveFound.push(countsIn(tables));
          if (tables.length !== 1) stray = true;
        }
      }
    }
    const agree = [...agreeing, ...naiveFound].every((c) => sameCounts(c, expected)) && !stray && last.schema.length === 0 && last.tables.length === 1;
    const bulk = last.tables.find((t) => t.table === TABLE);
    return {
      diff,
      naive,
      first,
      comparing,
      changeMs,
      expected,
      found: countsOf(last),
      naiveFound: naiveFound[naiveFound.length - 1]!,
      compared: bulk ? `${bulk.compared}${bulk.reason ? `, ${bulk.reason}` : ''}` : 'no changes found',
      agree,
      stats: last.stats,
      pages: await relationPages(head),
    };
  } finally {
    await head.destroy();
  }
}

function countsOf(d: DatabaseDiff): RowCounts {
  return countsIn(d.tables);
}

function countsIn(tables: Array<{ table: string } & RowCounts>): RowCounts {
  const bulk = tables.find((t) => t.table === TABLE);
  return { inserted: bulk?.inserted ?? 0, updated: bulk?.updated ?? 0, deleted: bulk?.deleted ?? 0 };
}

async function relationPages(branch: Branch): Promise<number> {
  const client = await connect(branch.url);
  try {
    const { rows } = await client.query<{ n: string }>(`select pg_relation_size('${TABLE}') / current_setting('block_size')::int as n`);
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}
