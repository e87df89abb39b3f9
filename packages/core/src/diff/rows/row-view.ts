import type { RowChangeView, TableChanges } from '../types.js';

/** Columns redacted unless DiffOptions.redact says otherwise: names that usually hold secrets. */
const SECRET_COLUMN = /(pass(word)?|secret|token|api_?key|private_?key|(^|_)hash)$/i;
export const REDACTED = '[redacted]';

/** Decides which columns of which table are shown as `[redacted]`. */
export function redactor(table: string, names: string[] | undefined): (column: string) => boolean {
  if (!names) return (column) => SECRET_COLUMN.test(column);
  const [schema, rel] = table.split('.', 2) as [string, string];
  const set = new Set(names);
  return (column) => set.has(column) || set.has(`${rel}.${column}`) || set.has(`${schema}.${rel}.${column}`);
}

type Row = Record<string, unknown>;

/** Parses a row's jsonb text, its columns in table order (jsonb keeps them shortest first). */
function parse(text: string | null, columns?: string[]): Row | undefined {
  if (text === null) return undefined;
  const row = JSON.parse(text) as Row;
  if (!columns) return row;
  const ordered: Row = {};
  for (const c of columns) if (c in row) ordered[c] = row[c];
  for (const c of Object.keys(row)) if (!(c in ordered)) ordered[c] = row[c];
  return ordered;
}

function hide(row: Row | undefined, redacted: (column: string) => boolean): Row | undefined {
  if (!row) return row;
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, redacted(k) && v !== null ? REDACTED : v]));
}

/** Orders keys by their columns' values: numbers as numbers, everything else as text. */
export function compareKeys(a: Row, b: Row): number {
  for (const col of Object.keys(a)) {
    const x = a[col];
    const y = b[col];
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return 0;
}

/** Counts of a table's changes (whole-row tables: copies added and removed; an update is a removal plus an addition). */
export function countChanges(t: TableChanges): { inserted: number; updated: number; deleted: number } {
  let inserted = 0;
  let updated = 0;
  let deleted = 0;
  if (t.counts) {
    for (const n of t.counts.values()) {
      if (n > 0) inserted += n;
      else deleted -= n;
    }
  }
  for (const { before, after } of t.changes.values()) {
    if (before === null) inserted++;
    else if (after === null) deleted++;
    else updated++;
  }
  return { inserted, updated, deleted };
}

/** The first `limit` changed rows of a table as people read them: inserted, updated, deleted, each in key order. */
export function rowViews(t: TableChanges, limit: number, redacted: (column: string) => boolean): RowChangeView[] {
  if (limit <= 0) return [];
  const views: RowChangeView[] = [];
  if (t.counts) {
    for (const [row, n] of t.counts) {
      const view: RowChangeView = n > 0 ? { change: 'inserted', after: hide(parse(row, t.columns), redacted) } : { change: 'deleted', before: hide(parse(row, t.columns), redacted) };
      for (let i = 0; i < Math.abs(n) && views.length < limit; i++) views.push(view);
      if (views.length >= limit) break;
    }
    return views;
  }
  const order = { inserted: 0, updated: 1, deleted: 2 } as const;
  const all = [...t.changes].map(([k, { before, after }]) => ({ key: parse(k, t.columns)!, before: parse(before, t.columns), after: parse(after, t.columns) }));
  const kind = (e: { before?: Row; after?: Row }): keyof typeof order => (!e.before ? 'inserted' : !e.after ? 'deleted' : 'updated');
  all.sort((a, b) => order[kind(a)] - order[kind(b)] || compareKeys(a.key, b.key));
  for (const e of all.slice(0, limit)) {
    const change = kind(e);
    const view: RowChangeView = { change, key: hide(e.key, redacted) };
    if (e.before) view.before = hide(e.before, redacted);
    if (e.after) view.after = hide(e.after, redacted);
    if (change === 'updated') {
      const cols = new Set([...Object.keys(e.before!), ...Object.keys(e.after!)]);
      view.columns = [...cols].filter((c) => JSON.stringify(e.before![c]) !== JSON.stringify(e.after![c]));
    }
    views.push(view);
  }
  return views;
}
