import { describe, expect, it } from 'vitest';
import type { ChartSpec, MethodResult } from '../types.js';
import { formatNumber, formatValue, renderChart } from './svg.js';

function result(method: string, samples: number[], extra: Partial<MethodResult> = {}): MethodResult {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
  const summary = { count: sorted.length, p50: at(50), p95: at(95), p99: at(99), max: sorted.at(-1) ?? 0 };
  return { method, unit: 'ms', samples, summary, ...extra };
}

const ramp = (n: number, from: number, step: number) => Array.from({ length: n }, (_, i) => from + i * step);
const count = (s: string, needle: string) => s.split(needle).length - 1;
const dist: ChartSpec = { kind: 'distribution', title: 'Branch creation', file: 'b.svg', yLabel: 'latency' };
const lineSpec: ChartSpec = { kind: 'line', title: 'Throughput', file: 't.svg', xLabel: 'acquirers', yLabel: 'rate' };

const results = [
  result('pgbranch btrfs', ramp(20, 2, 0.3)),
  result('CREATE DATABASE', ramp(20, 300, 15)),
  result('Testcontainers', ramp(10, 2500, 200)),
];
const series = [1, 2, 4, 8].flatMap((x) => [
  result('pgbranch', ramp(5, 100 * x, 10), { x, group: `${x} acquirers`, unit: 'branches/s' }),
  result('template', ramp(5, 20 * x, 3), { x, group: `${x} acquirers`, unit: 'branches/s' }),
]);

function expectWellFormed(svg: string) {
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  expect(svg.endsWith('</svg>')).toBe(true);
  expect(svg).toMatch(/viewBox="0 0 \d+ \d+"/);
  expect(count(svg, '<g')).toBe(count(svg, '</g>'));
  expect(count(svg, '<text')).toBe(count(svg, '</text>'));
  expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  // every `&` starts an entity; no stray `<` inside text
  expect(svg).not.toMatch(/&(?!amp;|lt;|gt;|quot;)/);
  for (const m of svg.matchAll(/<text[^>]*>([^]*?)<\/text>/g)) expect(m[1]).not.toMatch(/[<>]/);
}

describe.each([
  ['distribution', dist, results],
  ['line', lineSpec, series],
] as const)('renderChart %s', (_kind, spec, data) => {
  it('is a standalone SVG with the title and each method once', () => {
    const svg = renderChart(spec, [...data]);
    expectWellFormed(svg);
    expect(svg).toContain(`>${spec.title}</text>`);
    for (const m of new Set(data.map((r) => r.method))) expect(count(svg, `>${m}</text>`)).toBe(1);
  });

  it('escapes markup in method names and titles', () => {
    const nasty = [result('a<b & c>', [1, 2, 3], { x: 1, group: 'g "1"' })];
    const svg = renderChart({ ...spec, title: 'T & <t>' }, nasty);
    expectWellFormed(svg);
    expect(svg).toContain('a&lt;b &amp; c&gt;');
    expect(svg).toContain('T &amp; &lt;t&gt;');
    expect(svg).not.toContain('a<b');
  });

  it('uses a log scale without NaN or Infinity, even with zeros and negatives', () => {
    const withZeros = [...data, result('odd', [0, -1, 0.001, 5], { x: 16, group: '16 acquirers', unit: data[0]!.unit })];
    const svg = renderChart({ ...spec, log: true }, withZeros);
    expectWellFormed(svg);
  });

  it('renders "no data" for empty input', () => {
    for (const input of [[], [result('nothing', [])], [result('nan', [Number.NaN])]]) {
      const svg = renderChart(spec, input);
      expectWellFormed(svg);
      expect(svg).toContain('no data');
      expect(svg).toContain(spec.title);
    }
  });

  it('is deterministic', () => {
    expect(renderChart(spec, [...data])).toBe(renderChart(spec, [...data]));
  });
});

describe('renderChart details', () => {
  it('keeps only spec.methods, in their order', () => {
    const svg = renderChart({ ...dist, methods: ['Testcontainers', 'pgbranch btrfs'] }, results);
    expect(svg).not.toContain('CREATE DATABASE');
    expect(svg.indexOf('>Testcontainers<')).toBeGreaterThan(0);
    expect(svg.indexOf('>Testcontainers<')).toBeLessThan(svg.indexOf('>pgbranch btrfs<'));
  });

  it('keeps only spec.groups', () => {
    const svg = renderChart({ ...dist, groups: ['2 workers'] }, [result('m', [10, 12], { group: '2 workers' }), result('m', [30, 40], { group: '4 workers' })]);
    expect(svg).toContain('>m · 2 workers</text>');
    expect(svg).not.toContain('4 workers');
  });

  it('labels distribution rows with their group and prints p50', () => {
    const svg = renderChart(dist, [result('m', [10, 12.3, 14], { group: '70 MB' })]);
    expect(svg).toContain('>m · 70 MB</text>');
    expect(svg).toContain('p50 12.3 ms');
    expect(count(svg, '<circle')).toBe(3);
  });

  it('orders line categories by x and labels them by group', () => {
    const shuffled = [series[6]!, series[0]!, series[2]!, series[4]!];
    const svg = renderChart(lineSpec, shuffled);
    const labels = [...svg.matchAll(/>(\d+) acquirers</g)].map((m) => Number(m[1]));
    expect(labels).toEqual([1, 2, 4, 8]);
    expect(svg).toContain('>acquirers</text>');
  });

  it('humanises byte axes', () => {
    const sizes = [result('disk', [70, 140, 700].map((m) => m * 1024 ** 2), { unit: 'bytes' })];
    for (const log of [false, true]) {
      const svg = renderChart({ ...dist, log }, sizes);
      expectWellFormed(svg);
      expect(svg).toContain('p50 140 MB');
      expect(svg).toMatch(/>\d[\d,.]* MB<\/text>/);
    }
  });

  it('draws 4–6 value ticks', () => {
    for (const log of [false, true]) {
      const svg = renderChart({ ...dist, log }, results);
      const ticks = count(svg, 'font-size="11" fill="#555"');
      expect(ticks).toBeGreaterThanOrEqual(3);
      expect(ticks).toBeLessThanOrEqual(6);
    }
  });
});

describe('number formatting', () => {
  it('is compact and humanises units', () => {
    expect(formatNumber(0.4213)).toBe('0.421');
    expect(formatNumber(0.42)).toBe('0.42');
    expect(formatNumber(12.34)).toBe('12.3');
    expect(formatNumber(1234.4)).toBe('1,234');
    expect(formatValue(12.34, 'ms')).toBe('12.3 ms');
    expect(formatValue(2500, 'ms')).toBe('2.5 s');
    expect(formatValue(512, 'bytes')).toBe('512 B');
    expect(formatValue(70 * 1024 ** 2, 'bytes')).toBe('70 MB');
    expect(formatValue(3072, 'MB')).toBe('3 GB');
    expect(formatValue(1234, 'branches/s')).toBe('1,234 branches/s');
  });
});
