import { describe, expect, it } from 'vitest';
import { summarize } from '@pgbranch/core/runner';
import { renderMarkdown, type BenchRun } from './markdown.js';

const result = (method: string, samples: number[], extra = {}) => ({ method, unit: 'ms' as const, samples, summary: summarize(samples), ...extra });

const run: BenchRun = {
  startedAt: '2026-01-01T00:00:00.000Z',
  profile: 'quick',
  machine: { cpu: 'Test CPU', cores: 2, memoryGiB: 24, kernel: '6.1', node: 'v20.20.2', postgres: '18.4', workDisk: 'ext4', versions: { pg: '8.16.0' } },
  scenarios: [
    {
      id: 'branch-creation',
      title: 'Branch creation',
      status: 'ok',
      results: [result('pgbranch local btrfs', [40, 50, 60]), result('pipe | method', [1000, 1200], { note: 'configured with fsync=off' })],
      reference: [{ operation: 'branch creation', value: 'mean 800 ms', source: 'docs' }],
      charts: [{ kind: 'distribution', title: 'Cold', file: 'branch-creation.svg', yLabel: 'ms' }],
      notes: ['PostgreSQL 18.4'],
    },
    {
      id: 'snapshot-size',
      title: 'Size',
      status: 'ok',
      results: [result('copy', [100], { group: '70 MB', x: 70 }), result('copy', [400], { group: '958 MB', x: 958, unit: 'MB' })],
      table: { columns: ['snapshot', 'a ÷ b'], rows: [['70 MB', '3.0×'], ['1 | 2', '1.0×']] },
      charts: [],
    },
    { id: 'cold-start', title: 'Cold start', status: 'not available', reason: 'needs suspend/resume', results: [], charts: [] },
  ],
};

describe('markdown report', () => {
  const md = renderMarkdown(run);

  it('starts with the run and the machine', () => {
    expect(md.split('\n')[0]).toBe('# pgbranch benchmark — 2026-01-01T00:00:00.000Z (quick profile)');
    expect(md).toContain('Machine: Test CPU, 2 cores, 24 GiB, Linux 6.1, work disk ext4, Node v20.20.2, PostgreSQL 18.4.');
  });

  it('tabulates p50/p95/p99 per method with counts and units, escaping pipes', () => {
    expect(md).toContain('| method | n | p50 | p95 | p99 |');
    expect(md).toContain('| pgbranch local btrfs | 3 | 50.0 ms | 60.0 ms | 60.0 ms |');
    expect(md).toContain('| pipe \\| method | 2 | 1,000 ms | 1,200 ms | 1,200 ms |');
  });

  it('adds a group column only where results are grouped', () => {
    expect(md).toContain('| method | group | n | p50 | p95 | p99 |');
    expect(md).toContain('| copy | 958 MB | 1 | 400.0 MB |');
  });

  it('prints reference figures as labelled lines, charts, notes and method notes', () => {
    expect(md).toContain('Reference — branch creation: mean 800 ms (docs).');
    expect(md).toContain('![Cold](branch-creation.svg)');
    expect(md).toContain('- PostgreSQL 18.4');
    expect(md).toContain('- pipe | method: configured with fsync=off');
  });

  it('prints the summary table of a scenario after its results', () => {
    const section = md.slice(md.indexOf('## Size'));
    expect(section).toContain('| snapshot | a ÷ b |\n| --- | --- |\n| 70 MB | 3.0× |\n| 1 \\| 2 | 1.0× |\n');
    expect(section.indexOf('| snapshot |')).toBeGreaterThan(section.indexOf('| copy | 958 MB'));
  });

  it('says why a scenario is not available instead of a table', () => {
    const section = md.slice(md.indexOf('## Cold start'));
    expect(section).toContain('**not available**: needs suspend/resume');
    expect(section).not.toContain('| method');
  });
});
