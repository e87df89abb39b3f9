import { summarize } from '@pgbranch/core/runner';
import { methodResult } from '../../stats.js';
import type { MethodResult } from '../../types.js';
import { FLOOR, NONE, type Mode } from './modes.js';
import { formatOverhead, overheadLine, type References } from './overhead.js';
import { shapeName, type Shape } from './suite.js';

/** One mode's timed runs in one suite shape. */
export interface Measured {
  mode: Mode;
  group: string;
  files: number;
  samples: number[];
}

interface ReportInput {
  main: Shape;
  growth: Shape[];
  rounds: { main: number; growth: number };
  measured: Measured[];
  skipped: string[];
  failures: string[];
  firstRuns: string[];
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The table rows (a mode × suite shape each) and the notes: set-up, then each mode's per-file overhead over the floor. */
export function e2eReport(input: ReportInput): { results: MethodResult[]; notes: string[] } {
  const { main, growth, rounds, measured } = input;
  const results = measured.map((m) => methodResult(m.mode.label, m.samples, { group: m.group, ...(m.group === shapeName(main) ? { note: m.mode.note } : {}) }));
  const refs = new Map<string, References>();
  for (const m of measured) {
    const r = refs.get(m.group) ?? {};
    if (m.mode.key === FLOOR) r.floor = m.samples;
    if (m.mode.key === NONE) r.none = m.samples;
    refs.set(m.group, r);
  }
  const notes = [
    `Each generated file opens its database at import, inserts 10 rows and checks it sees exactly those. Schema: the sync-store ` +
      `migrations without the bulk seed (001, 002, 004). Per-file overhead = the median over the rounds of (the mode's wall − ` +
      `the reference's wall in the same round) ÷ files (modes alternate, so each pair ran seconds apart on this drifting machine), ` +
      `against the floor (one shared database, each file's work rolled back: what any isolation must beat) and against no database.`,
    `${shapeName(main)}: every mode, one untimed warm-up run each (the slow per-file Testcontainers/PGlite modes warm up on ` +
      `${main.workers} files), then ${rounds.main} timed runs per mode, modes alternating round by round. ` +
      `${growth.map(shapeName).join(' and ')}: the fast modes only (${rounds.growth} timed run${rounds.growth === 1 ? '' : 's'} each, alternating, caches warm from the main shape; quick profile: one run, to stay within its time); ` +
      `the per-file Testcontainers and PGlite modes and the serial shared container cost seconds per file and run in the main shape only.`,
    ...input.skipped,
    ...input.failures,
    ...(input.firstRuns.length ? [`Warm-up (first) runs of pgbranch, building the snapshot: ${input.firstRuns.join(', ')} (not in the samples).`] : []),
  ];
  const byMode = new Map<Mode, Measured[]>();
  for (const m of measured) byMode.set(m.mode, [...(byMode.get(m.mode) ?? []), m]);
  for (const [mode, rows] of byMode) {
    if (mode.key === NONE) continue;
    const parts = rows.map((m) => {
      const { p50, overFloor, overNone } = overheadLine(m.samples, m.files, refs.get(m.group) ?? {});
      const p95 = summarize(m.samples).p95;
      const over = mode.key === FLOOR ? `${formatOverhead(overNone)} over no database` : `${formatOverhead(overFloor)} over the floor (${formatOverhead(overNone)} over no database)`;
      return `${m.group}: ${over}, wall p50 ${seconds(p50)} (p95 ${seconds(p95)})`;
    });
    notes.push(`**${mode.label}** — ${parts.join('; ')}`);
  }
  return { results, notes };
}
