import type { ChartSpec, MethodResult } from '../types.js';

type Unit = MethodResult['unit'];

/** Pixel mapping of the value axis, its tick values and their labels. */
interface Scale {
  at(value: number): number;
  ticks: number[];
  label(value: number): string;
}

const W = 720;
// Okabe–Ito colours (colour-blind safe), with yellow swapped for darker tones that read on white.
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#882255', '#555555'];
const FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";
const CHAR_W = 6.6; // rough width of a 12px sans-serif character, for layout only

const color = (i: number) => PALETTE[i % PALETTE.length]!;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const px = (v: number) => String(Math.round(v * 10) / 10);
const text = (x: number, y: number, s: string, attrs = '') => `<text x="${px(x)}" y="${px(y)}"${attrs}>${esc(s)}</text>`;
const line = (x1: number, y1: number, x2: number, y2: number, attrs: string) =>
  `<line x1="${px(x1)}" y1="${px(y1)}" x2="${px(x2)}" y2="${px(y2)}" ${attrs}/>`;

const sig3 = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 3 });
const whole = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 0.42, 12.3, 1,234. */
export function formatNumber(v: number): string {
  return Math.abs(v) >= 100 ? whole.format(v) : sig3.format(v);
}

/** Display unit for values around `v`: ms → s past a second, bytes/MB → KB/MB/GB. */
function unitBase(unit: Unit, v: number): { div: number; suffix: string } {
  const a = Math.abs(v);
  if (unit === 'ms') return a >= 1000 ? { div: 1000, suffix: 's' } : { div: 1, suffix: 'ms' };
  if (unit === 'branches/s') return { div: 1, suffix: 'branches/s' };
  const perUnit = unit === 'MB' ? 1024 ** 2 : 1;
  const k = Math.min(4, Math.max(0, Math.floor(Math.log(Math.max(a * perUnit, 1)) / Math.log(1024))));
  return { div: 1024 ** k / perUnit, suffix: ['B', 'KB', 'MB', 'GB', 'TB'][k]! };
}

export function formatValue(v: number, unit: Unit): string {
  const { div, suffix } = unitBase(unit, v);
  return `${formatNumber(v / div)} ${suffix}`;
}

function extent(values: number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  return [lo, hi];
}

/** Round ticks covering [lo, hi]; preferring 4–6 of them. */
function niceTicks(lo: number, hi: number): number[] {
  if (hi <= lo) [lo, hi] = [lo === 0 ? 0 : lo - Math.abs(lo) * 0.1, hi + (Math.abs(hi) * 0.1 || 1)];
  const base = 10 ** Math.floor(Math.log10((hi - lo) / 5));
  const options = [1, 2, 2.5, 5, 10, 20, 25, 50].map((m) => {
    const step = m * base;
    const out: number[] = [];
    for (let i = Math.floor(lo / step); i <= Math.ceil(hi / step); i++) out.push(Number((i * step).toPrecision(12)));
    return out;
  });
  return options.find((t) => t.length >= 4 && t.length <= 6) ?? options.find((t) => t.length <= 6)!;
}

/** 1-2-5 ticks inside [lo, hi] when they fit, else fewer per decade; narrow ranges use linear ticks. */
function logTicks(lo: number, hi: number): number[] {
  const [a, b] = [Math.floor(Math.log10(lo)), Math.ceil(Math.log10(hi))];
  const within = (mults: number[], every = 1, all = false) => {
    const out: number[] = [];
    for (let e = a; e <= b; e += every) for (const m of mults) out.push(Number((m * 10 ** e).toPrecision(12)));
    return all ? out : out.filter((v) => v >= lo && v <= hi);
  };
  const fine = within([1, 2, 5]);
  if (fine.length <= 6) return fine.length >= 3 ? fine : niceTicks(lo, hi).filter((v) => v >= lo && v <= hi && v > 0);
  const thirds = within([1, 3]);
  if (thirds.length <= 6) return thirds;
  const every = Math.ceil((b - a) / 5);
  const powers = within([1], every);
  // Too few powers of ten inside: widen the axis to whole decades rather than show three labels.
  return powers.length >= 4 ? powers : within([1], every, true);
}

/** Maps values onto [from, to]; log10 when asked and there is anything positive (values ≤ 0 pin to the low end). */
function makeScale(values: number[], unit: Unit, log: boolean, from: number, to: number): Scale {
  const useLog = log && values.some((v) => v > 0);
  let [lo, hi] = extent(useLog ? values.filter((v) => v > 0) : values);
  const { div } = unitBase(unit, Math.max(Math.abs(lo), Math.abs(hi)));
  let ticks: number[];
  if (useLog) {
    [lo, hi] = [lo / 1.2, hi * 1.2];
    ticks = logTicks(lo / div, hi / div).map((t) => t * div);
    [lo, hi] = [Math.min(lo, ticks[0]!), Math.max(hi, ticks.at(-1)!)];
  } else {
    if (lo >= 0 && lo < hi / 2) lo = 0; // start at zero unless that squashes every value into one corner
    ticks = niceTicks(lo / div, hi / div).map((t) => t * div);
    [lo, hi] = [ticks[0]!, ticks.at(-1)!];
  }
  const f = useLog ? (v: number) => Math.log10(Math.max(v, lo)) : (v: number) => v;
  const [a, b] = [f(lo), f(hi)];
  return {
    ticks,
    at: (v) => from + ((f(v) - a) / (b - a || 1)) * (to - from),
    label: (v) => (v === 0 ? '0' : formatValue(v, unit)), // per tick, so a log axis reads 10 ms … 1 s
  };
}

function doc(spec: ChartSpec, height: number, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" font-family="${FONT}" font-size="12" fill="#222">`,
    `<title>${esc(spec.title)}</title>`,
    `<rect width="${W}" height="${height}" fill="#fff"/>`,
    text(W / 2, 28, spec.title, ' text-anchor="middle" font-size="16" font-weight="600"'),
    ...body,
    '</svg>',
  ].join('\n');
}

/** Evenly spread offsets in [-1, 1] (golden-ratio sequence), so the jitter is stable from run to run. */
const jitter = (i: number) => ((i * 0.6180339887) % 1) * 2 - 1;

function distribution(spec: ChartSpec, rows: MethodResult[]): string {
  const [top, rowH, x0, x1] = [48, 46, 24, W - 140];
  const scale = makeScale(rows.flatMap((r) => [...r.samples, r.summary.p95]), rows[0]!.unit, !!spec.log, x0, x1);
  const axisY = top + rows.length * rowH + 6;
  const body = scale.ticks.map((t) => line(scale.at(t), top, scale.at(t), axisY, 'stroke="#e6e6e6"'));
  rows.forEach((r, i) => {
    const cy = top + i * rowH + 31;
    const [p50, p95] = [scale.at(r.summary.p50), scale.at(r.summary.p95)];
    const dots = r.samples.map((v, j) => `<circle cx="${px(scale.at(v))}" cy="${px(cy + jitter(j) * 7)}" r="2.5"/>`);
    body.push(
      '<g>',
      text(x0, cy - 14, r.group ? `${r.method} · ${r.group}` : r.method, ' font-weight="600"'),
      `<g fill="${color(i)}" fill-opacity="0.45">${dots.join('')}</g>`,
      line(p50, cy, p95, cy, 'stroke="#222" stroke-width="1.5"'),
      line(p95, cy - 5, p95, cy + 5, 'stroke="#222" stroke-width="1.5"'),
      `<rect x="${px(p50 - 1.5)}" y="${px(cy - 10)}" width="3" height="20" fill="#222"/>`,
      text(x1 + 12, cy + 4, `p50 ${formatValue(r.summary.p50, r.unit)}`, ' font-size="11"'),
      '</g>',
    );
  });
  body.push(line(x0, axisY, x1, axisY, 'stroke="#888"'));
  for (const t of scale.ticks) {
    body.push(line(scale.at(t), axisY, scale.at(t), axisY + 4, 'stroke="#888"'));
    body.push(text(scale.at(t), axisY + 17, scale.label(t), ' text-anchor="middle" font-size="11" fill="#555"'));
  }
  body.push(text((x0 + x1) / 2, axisY + 38, spec.yLabel, ' text-anchor="middle"'));
  return doc(spec, axisY + 52, body);
}

/** Distinct x positions, sorted by `x`; results without one keep their order after those with one. */
function categories(results: MethodResult[]): { key: string; label: string }[] {
  const seen = new Map<string, { key: string; label: string; x?: number }>();
  for (const r of results) {
    const key = String(r.x ?? r.group ?? '');
    if (!seen.has(key)) seen.set(key, { key, label: r.group ?? (r.x === undefined ? '' : formatNumber(r.x)), x: r.x });
  }
  const rank = (x?: number) => x ?? Infinity;
  return [...seen.values()].sort((a, b) => (rank(a.x) === rank(b.x) ? 0 : rank(a.x) - rank(b.x)));
}

/** Legend items laid out left to right, wrapping; returns the markup and the rows used. */
function legend(methods: string[], y: number): { markup: string[]; rows: number } {
  const markup: string[] = [];
  let [x, row] = [24, 0];
  methods.forEach((m, i) => {
    const w = 26 + m.length * CHAR_W + 18;
    if (x + w > W - 16 && x > 24) [x, row] = [24, row + 1];
    const ly = y + row * 18;
    markup.push(line(x, ly - 4, x + 18, ly - 4, `stroke="${color(i)}" stroke-width="3"`), text(x + 24, ly, m));
    x += w;
  });
  return { markup, rows: row + 1 };
}

function lineChart(spec: ChartSpec, results: MethodResult[]): string {
  const methods = [...new Set(results.map((r) => r.method))];
  const cats = categories(results);
  const leg = legend(methods, 54);
  const top = 54 + leg.rows * 18 + 6;
  const bottom = top + 260;
  const scale = makeScale(results.flatMap((r) => [r.summary.p50, r.summary.p95]), results[0]!.unit, !!spec.log, bottom, top);
  const left = 36 + Math.max(...scale.ticks.map((t) => scale.label(t).length)) * CHAR_W;
  const right = W - 20;
  const catX = (key: string) => left + ((cats.findIndex((c) => c.key === key) + 0.5) * (right - left)) / cats.length;
  const body = [...leg.markup];
  for (const t of scale.ticks) {
    body.push(line(left, scale.at(t), right, scale.at(t), 'stroke="#e6e6e6"'));
    body.push(text(left - 6, scale.at(t) + 4, scale.label(t), ' text-anchor="end" font-size="11" fill="#555"'));
  }
  body.push(line(left, bottom, right, bottom, 'stroke="#888"'), line(left, top, left, bottom, 'stroke="#888"'));
  for (const c of cats) body.push(text(catX(c.key), bottom + 17, c.label, ' text-anchor="middle" font-size="11" fill="#555"'));
  methods.forEach((m, i) => {
    const dodge = (i - (methods.length - 1) / 2) * 3; // keeps overlapping p95 bars of different series apart
    const pts = results
      .filter((r) => r.method === m)
      .map((r) => ({ x: catX(String(r.x ?? r.group ?? '')) + dodge, y50: scale.at(r.summary.p50), y95: scale.at(r.summary.p95) }))
      .sort((a, b) => a.x - b.x);
    body.push(`<g stroke="${color(i)}" fill="${color(i)}">`);
    body.push(`<polyline fill="none" stroke-width="2" points="${pts.map((p) => `${px(p.x)},${px(p.y50)}`).join(' ')}"/>`);
    for (const p of pts) {
      body.push(line(p.x, p.y50, p.x, p.y95, 'stroke-width="1.2"'), line(p.x - 3, p.y95, p.x + 3, p.y95, 'stroke-width="1.2"'));
      body.push(`<circle cx="${px(p.x)}" cy="${px(p.y50)}" r="3.5"/>`);
    }
    body.push('</g>');
  });
  if (spec.xLabel) body.push(text((left + right) / 2, bottom + 38, spec.xLabel, ' text-anchor="middle"'));
  const mid = (top + bottom) / 2;
  body.push(`<text transform="translate(16 ${px(mid)}) rotate(-90)" text-anchor="middle">${esc(spec.yLabel)}</text>`);
  return doc(spec, bottom + 52, body);
}

/** A standalone SVG chart of `results` as described by `spec`. */
export function renderChart(spec: ChartSpec, results: MethodResult[]): string {
  const picked = spec.methods ? [...new Set(spec.methods)].flatMap((m) => results.filter((r) => r.method === m)) : results;
  const shown = picked
    .filter((r) => !spec.groups || spec.groups.includes(r.group ?? ''))
    .map((r) => ({ ...r, samples: r.samples.filter((v) => Number.isFinite(v)) }))
    .filter((r) => r.samples.length > 0);
  if (shown.length === 0) return doc(spec, 110, [text(W / 2, 70, 'no data', ' text-anchor="middle" fill="#888"')]);
  return spec.kind === 'line' ? lineChart(spec, shown) : distribution(spec, shown);
}
