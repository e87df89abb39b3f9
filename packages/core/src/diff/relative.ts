import type { TableResult } from './rows/table-changes.js';
import type { TableChanges } from './types.js';

/**
 * Row changes from `other` to `head`, given what changed from their common ancestor to each: a row changed on one
 * side only differs by that change; changed on both, it differs unless both ended the same. Whole-row tables: the
 * difference of the copies each side added and removed.
 */
export function relativeChanges(toOther: TableResult[], toHead: TableResult[]): TableResult[] {
  const others = new Map(toOther.map((t) => [t.changes.table, t]));
  const out: TableResult[] = [];
  const tables = new Set([...toHead.map((t) => t.changes.table), ...others.keys()]);
  const heads = new Map(toHead.map((t) => [t.changes.table, t]));
  for (const table of [...tables].sort()) {
    const h = heads.get(table);
    const o = others.get(table);
    const shape = (h ?? o)!;
    const changes: TableChanges = { table, keyedBy: shape.changes.keyedBy, key: shape.changes.key, changes: new Map(), columns: shape.changes.columns };
    if (h?.changes.counts || o?.changes.counts) {
      const counts = new Map(h?.changes.counts ?? []);
      for (const [row, n] of o?.changes.counts ?? []) counts.set(row, (counts.get(row) ?? 0) - n);
      changes.counts = new Map([...counts].filter(([, n]) => n !== 0));
    }
    const oc = o?.changes.changes ?? new Map<string, { before: string | null; after: string | null }>();
    const hc = h?.changes.changes ?? new Map<string, { before: string | null; after: string | null }>();
    for (const [key, mine] of hc) {
      const theirs = oc.get(key);
      const before = theirs ? theirs.after : mine.before;
      if (before !== mine.after) changes.changes.set(key, { before, after: mine.after });
    }
    for (const [key, theirs] of oc) {
      if (!hc.has(key) && theirs.after !== theirs.before) changes.changes.set(key, { before: theirs.after, after: theirs.before });
    }
    const compared = h?.compared === 'whole table' || o?.compared === 'whole table' ? 'whole table' : 'changed pages';
    out.push({ changes, compared, reason: h?.reason ?? o?.reason, pagesRead: (h?.pagesRead ?? 0) + (o?.pagesRead ?? 0), pagesChanged: (h?.pagesChanged ?? 0) + (o?.pagesChanged ?? 0), rowVersions: (h?.rowVersions ?? 0) + (o?.rowVersions ?? 0) });
  }
  return out;
}
