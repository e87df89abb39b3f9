import type { MachineInfo } from '../machine.js';
import type { MethodResult, ScenarioResult } from '../types.js';

/** A whole run: what it ran on and every scenario's results. */
export interface BenchRun {
  startedAt: string;
  profile: 'quick' | 'full';
  machine: MachineInfo;
  scenarios: ScenarioResult[];
}

/** The Markdown report of a run: machine, then per scenario a table of p50/p95/p99, reference figures, charts and notes. */
export function renderMarkdown(run: BenchRun): string {
  const m = run.machine;
  const lines = [
    `# pgbranch benchmark — ${run.startedAt} (${run.profile} profile)`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Linux ${m.kernel}, work disk ${m.workDisk}, Node ${m.node}, PostgreSQL ${m.postgres}.`,
    `Versions: ${Object.entries(m.versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    '',
    'Every figure below was measured in this run on this machine; ratios compare methods of the same run.',
    'Reference figures (labelled) come from the product documents and are printed beside ours, never mixed in.',
    '',
  ];
  for (const s of run.scenarios) lines.push(...scenarioSection(s));
  return lines.join('\n') + '\n';
}

function scenarioSection(s: ScenarioResult): string[] {
  const out = [`## ${s.title}`, ''];
  if (s.status !== 'ok') {
    out.push(`**${s.status}**${s.reason ? `: ${s.reason}` : ''}`, '');
    return out;
  }
  if (s.results.length > 0) {
    const grouped = s.results.some((r) => r.group);
    out.push(`| method${grouped ? ' | group' : ''} | n | p50 | p95 | p99 |`, `| --- |${grouped ? ' --- |' : ''} --- | --- | --- | --- |`);
    for (const r of s.results) {
      out.push(`| ${escapeCell(r.method)}${grouped ? ` | ${escapeCell(r.group ?? '')}` : ''} | ${r.summary.count} | ${fmt(r.summary.p50, r)} | ${fmt(r.summary.p95, r)} | ${fmt(r.summary.p99, r)} |`);
    }
    out.push('');
  }
  if (s.table) {
    out.push(`| ${s.table.columns.map(escapeCell).join(' | ')} |`, `|${' --- |'.repeat(s.table.columns.length)}`);
    for (const row of s.table.rows) out.push(`| ${row.map(escapeCell).join(' | ')} |`);
    out.push('');
  }
  for (const ref of s.reference ?? []) out.push(`Reference — ${ref.operation}: ${ref.value} (${ref.source}).`);
  if (s.reference?.length) out.push('');
  for (const chart of s.charts) out.push(`![${escapeCell(chart.title)}](${chart.file})`, '');
  for (const note of s.notes ?? []) out.push(`- ${note}`);
  if (s.notes?.length) out.push('');
  for (const r of s.results.filter((r) => r.note)) out.push(`- ${r.method}${r.group ? ` (${r.group})` : ''}: ${r.note}`);
  if (s.results.some((r) => r.note)) out.push('');
  return out;
}

/** A value in its unit, compactly. */
export function fmt(value: number, r: Pick<MethodResult, 'unit'>): string {
  switch (r.unit) {
    case 'ms':
      return `${value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : Math.round(value).toLocaleString('en-US')} ms`;
    case 'bytes':
      return `${(value / 2 ** 20).toFixed(1)} MiB`;
    case 'MB':
      return `${value.toFixed(1)} MB`;
    case 'branches/s':
      return `${value.toFixed(1)} branches/s`;
  }
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}
