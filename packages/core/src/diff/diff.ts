import type pg from 'pg';
import { readCatalog } from './schema/catalog.js';
import { compareSchemas } from './schema/compare.js';
import { readRelations, type Relation } from './rows/relations.js';
import { pageLsns } from './rows/page-lsns.js';
import { countChanges, redactor, rowViews } from './rows/row-view.js';
import { tableChanges, type TableResult } from './rows/table-changes.js';
import type { DatabaseDiff, DiffOptions, DiffStats, SchemaChange, SchemaObject, TableChanges, TableDiff } from './types.js';

export type { TableResult };

/** One side of a diff: a connection as the superuser (relation files are read through the server) and a label. */
export interface DiffSide {
  client: pg.ClientBase;
  /** For people: `snapshot app (ab12cd34ef56)`, `branch feature`. */
  label: string;
}

/** A schema catalog: objects by `kind:id`. */
export type Catalog = Map<string, SchemaObject>;

/** What changed from a base to a head, before it is shaped for people: catalogs and row changes per table. */
export interface Comparison {
  base: Catalog;
  head: Catalog;
  tables: TableResult[];
  stats: Omit<DiffStats, 'durationMs'>;
  /** The head's transaction snapshot the comparison read (`pg_current_snapshot()`): another one later means writes. */
  headSnapshot: string;
}

/**
 * What comparisons of two heads against one base server (a merge: target and source; a diff between two branches)
 * share: the base never changes while they run, so its catalog, tables and page LSNs are read once. Make one with
 * `{ lsns: new Map() }` and pass it to both compareSides calls.
 */
export interface SharedBase {
  catalog?: Promise<Catalog>;
  relations?: Promise<Map<string, Relation>>;
  lsns: Map<string, Promise<Buffer>>;
}

/**
 * Compares `head` with `base`, where base is a common ancestor of head: a server started on a clone of the snapshot
 * head descends from (so that their relation files share every page head did not change). Both sides get a
 * CHECKPOINT first, so that changed pages are in the files. Tables are compared page by page: only pages whose LSN
 * differs are read, and only row versions written or gone since the ancestor are fetched.
 */
export async function compareSides(base: pg.ClientBase, head: pg.ClientBase, shared: SharedBase = { lsns: new Map() }): Promise<Comparison> {
  // One snapshot per side for every read: a row written again while the diff reads cannot look deleted. The
  // CHECKPOINT comes after the snapshot is taken, so every change the snapshot sees is in the files.
  const begin = async (c: pg.ClientBase): Promise<string> => {
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    const { rows } = await c.query<{ s: string }>('SELECT pg_current_snapshot()::text AS s');
    await c.query('CHECKPOINT');
    return rows[0]!.s;
  };
  const [, headSnapshot] = await Promise.all([begin(base), begin(head)]);
  try {
    return { ...(await compareInSnapshots(base, head, shared)), headSnapshot };
  } finally {
    await Promise.all([base.query('COMMIT').catch(() => undefined), head.query('COMMIT').catch(() => undefined)]);
  }
}

async function compareInSnapshots(base: pg.ClientBase, head: pg.ClientBase, shared: SharedBase): Promise<Omit<Comparison, 'headSnapshot'>> {
  shared.catalog ??= readCatalog(base);
  shared.relations ??= readRelations(base);
  const [baseCatalog, headCatalog, baseRelations, headRelations] = await Promise.all([shared.catalog, readCatalog(head), shared.relations, readRelations(head)]);
  const pagesReadable = await standardPages(head);
  const lsns = (relation: Relation): Promise<Buffer> => {
    let read = shared.lsns.get(relation.table);
    if (!read) shared.lsns.set(relation.table, (read = pageLsns(base, relation)));
    return read;
  };
  const tables: TableResult[] = [];
  for (const [table, relation] of headRelations) {
    const result = await tableChanges({ client: base, relation: baseRelations.get(table), lsns }, { client: head, relation }, pagesReadable);
    if (result) tables.push(result);
  }
  return {
    base: baseCatalog,
    head: headCatalog,
    tables: tables.filter((t) => hasChanges(t.changes)),
    stats: {
      tables: tables.length,
      pagesRead: tables.reduce((n, r) => n + r.pagesRead, 0),
      pagesChanged: tables.reduce((n, r) => n + r.pagesChanged, 0),
      rowVersions: tables.reduce((n, r) => n + r.rowVersions, 0),
    },
  };
}

/** True when the server's pages are 8 kB in 1 GB segment files, as page LSNs are read (every common build). */
async function standardPages(client: pg.ClientBase): Promise<boolean> {
  const { rows } = await client.query<{ block: string; segment: string }>("SELECT current_setting('block_size') AS block, current_setting('segment_size') AS segment");
  return rows[0]?.block === '8192' && rows[0]?.segment === '1GB';
}

function hasChanges(t: TableChanges): boolean {
  return t.changes.size > 0 || [...(t.counts?.values() ?? [])].some((n) => n !== 0);
}

/** Shapes row changes and schema changes for people: counts, the first rows (redacted), stats. */
export function describeDiff(labels: { base: string; head: string }, schema: SchemaChange[], tables: TableResult[], stats: DiffStats, options: DiffOptions = {}): DatabaseDiff {
  const limit = options.rows ?? 10;
  const out: TableDiff[] = [];
  for (const r of tables) {
    const counts = countChanges(r.changes);
    if (counts.inserted + counts.updated + counts.deleted === 0) continue;
    const t: TableDiff = { table: r.changes.table, keyedBy: r.changes.keyedBy, key: r.changes.key, ...counts, rows: rowViews(r.changes, limit, redactor(r.changes.table, options.redact)), compared: r.compared };
    if (r.reason) t.reason = r.reason;
    out.push(t);
  }
  out.sort((a, b) => (a.table < b.table ? -1 : 1));
  return { base: labels.base, head: labels.head, schema, tables: out, stats };
}

/** What changed from `base` (a common ancestor, see compareSides) to `head`. */
export async function diffDatabases(base: DiffSide, head: DiffSide, options: DiffOptions = {}): Promise<DatabaseDiff> {
  const started = performance.now();
  const c = await compareSides(base.client, head.client);
  return describeDiff({ base: base.label, head: head.label }, compareSchemas(c.base, c.head), c.tables, { ...c.stats, durationMs: Math.round(performance.now() - started) }, options);
}
