import type pg from 'pg';
import type { TableChanges } from '../types.js';
import { changedRuns, pageLsns, pagesIn, type PageRun } from './page-lsns.js';
import type { Relation } from './relations.js';
import { comparedSql, rowsAt, rowVersions, type RowRead, type RowVersion } from './row-versions.js';

/** One table on one side of a diff. */
export interface TableSide {
  client: pg.ClientBase;
  relation: Relation | undefined;
  /** Reads the relation's page LSNs (default: pageLsns through `client`); lets two comparisons share one base's. */
  lsns?: (relation: Relation) => Promise<Buffer>;
}

/** A table's row changes from base to head, and how they were found. */
export interface TableResult {
  changes: TableChanges;
  compared: 'changed pages' | 'whole table';
  reason?: string;
  pagesRead: number;
  pagesChanged: number;
  rowVersions: number;
}

/** Why a table cannot be compared page by page, or undefined when it can. */
function wholeTableReason(base: Relation | undefined, head: Relation): string | undefined {
  if (!base) return 'new table';
  if (base.filenode !== head.filenode) return 'rewritten (TRUNCATE, VACUUM FULL, CLUSTER or a column type change)';
  if (base.persistence === 'u' || head.persistence === 'u') return 'unlogged: its pages carry no LSN';
  return undefined;
}

/**
 * What changed in one table from `base` (a common ancestor: a fresh clone of a snapshot) to `head`. Undefined when the
 * table is gone from head (the schema diff says so). Both servers must have run a CHECKPOINT since their last write.
 * `pagesReadable` false (a build with other page or segment sizes) compares every table whole.
 */
export async function tableChanges(base: TableSide, head: TableSide, pagesReadable = true): Promise<TableResult | undefined> {
  const headRel = head.relation;
  if (!headRel) return undefined;
  const baseRel = base.relation;
  const baseCols = new Set(baseRel?.columns.map((c) => c.name) ?? []);
  const headCols = new Set(headRel.columns.map((c) => c.name));
  const baseDropped = [...baseCols].filter((c) => !headCols.has(c));
  // Columns only head has stay in its rows unless NULL: a value set in a new column is a change a merge must carry,
  // NULL is what base's row (without the column) says too. Columns only base has are left out of base's rows.
  const headOnly = [...headCols].filter((c) => !baseCols.has(c));
  const baseCompared = comparedSql(baseDropped);
  const headCompared = comparedSql([], headOnly);
  const sameKey = !baseRel || baseRel.key.join('\0') === headRel.key.join('\0');
  const key = sameKey ? headRel.key : [];
  const keyed = { ...headRel, key };
  const changes: TableChanges = { table: headRel.table, keyedBy: key.length > 0 ? 'primary key' : 'whole row', key, changes: new Map(), columns: headRel.columns.map((c) => c.name) };

  let reason = pagesReadable ? wholeTableReason(baseRel, headRel) : 'this Postgres build has other page or segment sizes than 8 kB and 1 GB';
  let runs: PageRun[] | undefined;
  let pagesRead = 0;
  if (!reason && baseRel) {
    const [baseLsns, headLsns] = await Promise.all([(base.lsns ?? ((r) => pageLsns(base.client, r)))(baseRel), pageLsns(head.client, headRel)]);
    pagesRead = (baseLsns.length + headLsns.length) / 8;
    runs = changedRuns(baseLsns, headLsns);
    if (runs.length === 0) return { changes, compared: 'changed pages', pagesRead, pagesChanged: 0, rowVersions: 0 };
  }
  const baseRuns = runs && baseRel ? clip(runs, Math.floor(baseRel.bytes / 8192)) : undefined;
  const [baseVersions, headVersions] = await Promise.all([
    baseRel ? rowVersions(base.client, baseRel, baseRuns, baseCompared) : Promise.resolve([]),
    rowVersions(head.client, headRel, runs, headCompared),
  ]);
  const { gone, added } = runs ? byVersion(baseVersions, headVersions) : byContent(baseVersions, headVersions);
  const [before, after] = await Promise.all([
    baseRel && gone.length > 0 ? rowsAt(base.client, { ...baseRel, key }, gone, baseCompared) : Promise.resolve([]),
    added.length > 0 ? rowsAt(head.client, keyed, added, headCompared) : Promise.resolve([]),
  ]);
  if (key.length > 0) collectKeyed(changes, before, after);
  else collectWholeRows(changes, before, after);
  if (!sameKey && baseRel) reason = `${reason ? `${reason}; ` : ''}its primary key changed: rows matched by content`;
  return {
    changes,
    compared: runs ? 'changed pages' : 'whole table',
    reason,
    pagesRead,
    pagesChanged: runs ? pagesIn(runs) : 0,
    rowVersions: baseVersions.length + headVersions.length,
  };
}

function clip(runs: PageRun[], pages: number): PageRun[] {
  return runs.filter(([a]) => a < pages).map(([a, b]) => [a, Math.min(b, pages)] as PageRun);
}

/** Pages mode: a version on one side only is a row written (head) or gone (base) since the ancestor. */
function byVersion(base: RowVersion[], head: RowVersion[]): { gone: string[]; added: string[] } {
  const id = (v: RowVersion): string => `${v.ctid}/${v.tag}`;
  const headIds = new Set(head.map(id));
  const baseIds = new Set(base.map(id));
  return { gone: base.filter((v) => !headIds.has(id(v))).map((v) => v.ctid), added: head.filter((v) => !baseIds.has(id(v))).map((v) => v.ctid) };
}

/** Whole-table mode: rows matched by content digest, as multisets. */
function byContent(base: RowVersion[], head: RowVersion[]): { gone: string[]; added: string[] } {
  const pending = new Map<string, string[]>();
  for (const v of base) {
    const list = pending.get(v.tag);
    if (list) list.push(v.ctid);
    else pending.set(v.tag, [v.ctid]);
  }
  const added: string[] = [];
  for (const v of head) {
    const list = pending.get(v.tag);
    if (list && list.length > 0) list.pop();
    else added.push(v.ctid);
  }
  return { gone: [...pending.values()].flat(), added };
}

function collectKeyed(out: TableChanges, before: RowRead[], after: RowRead[]): void {
  const old = new Map(before.map((r) => [r.k!, r]));
  for (const row of after) {
    const was = old.get(row.k!);
    old.delete(row.k!);
    if (was && was.c === row.c) continue; // rewritten with the same values
    out.changes.set(row.k!, { before: was?.r ?? null, after: row.r });
  }
  for (const [k, was] of old) out.changes.set(k, { before: was.r, after: null });
}

function collectWholeRows(out: TableChanges, before: RowRead[], after: RowRead[]): void {
  const net = new Map<string, { n: number; r: string }>();
  const add = (row: RowRead, n: number): void => {
    const entry = net.get(row.c) ?? { n: 0, r: row.r };
    entry.n += n;
    if (n > 0) entry.r = row.r;
    net.set(row.c, entry);
  };
  for (const row of before) add(row, -1);
  for (const row of after) add(row, 1);
  out.counts = new Map([...net.values()].filter((e) => e.n !== 0).map((e) => [e.r, e.n]));
}
