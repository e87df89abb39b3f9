import type pg from 'pg';
import { compareSchemas, readCatalog } from './schema-stub.js';
import { readRelations } from './rows/relations.js';
import { countChanges, redactor, rowViews } from './rows/row-view.js';
import { tableChanges, type TableResult } from './rows/table-changes.js';
import type { DatabaseDiff, DiffOptions, TableChanges, TableDiff } from './types.js';

/** One side of a diff: a connection as the superuser (relation files are read through the server) and a label. */
export interface DiffSide {
  client: pg.ClientBase;
  /** For people: `snapshot app (ab12cd34ef56)`, `branch feature`. */
  label: string;
}

/** A diff, and the row changes behind it (what a merge plans from). */
export interface DiffResult {
  diff: DatabaseDiff;
  changes: TableChanges[];
}

/**
 * What changed from `base` to `head`, where base is a common ancestor of head: a server started on a clone of the
 * snapshot head descends from (so that their relation files share every page head did not change). Both sides get a
 * CHECKPOINT first, so that changed pages are in the files. Tables are compared page by page: only pages whose LSN
 * differs are read, and only row versions written or gone since the ancestor are fetched.
 */
export async function diffDatabases(base: DiffSide, head: DiffSide, options: DiffOptions = {}): Promise<DiffResult> {
  const started = performance.now();
  await Promise.all([base.client.query('CHECKPOINT'), head.client.query('CHECKPOINT')]);
  const [baseCatalog, headCatalog, baseRelations, headRelations] = await Promise.all([
    readCatalog(base.client),
    readCatalog(head.client),
    readRelations(base.client),
    readRelations(head.client),
  ]);
  const results: TableResult[] = [];
  for (const [table, relation] of headRelations) {
    const result = await tableChanges({ client: base.client, relation: baseRelations.get(table) }, { client: head.client, relation });
    if (result) results.push(result);
  }
  const limit = options.rows ?? 10;
  const tables: TableDiff[] = [];
  for (const r of results) {
    const counts = countChanges(r.changes);
    if (counts.inserted + counts.updated + counts.deleted === 0) continue;
    const t: TableDiff = { table: r.changes.table, keyedBy: r.changes.keyedBy, key: r.changes.key, ...counts, rows: rowViews(r.changes, limit, redactor(r.changes.table, options.redact)), compared: r.compared };
    if (r.reason) t.reason = r.reason;
    tables.push(t);
  }
  const diff: DatabaseDiff = {
    base: base.label,
    head: head.label,
    schema: compareSchemas(baseCatalog, headCatalog),
    tables,
    stats: {
      tables: results.length,
      pagesRead: results.reduce((n, r) => n + r.pagesRead, 0),
      pagesChanged: results.reduce((n, r) => n + r.pagesChanged, 0),
      rowVersions: results.reduce((n, r) => n + r.rowVersions, 0),
      durationMs: Math.round(performance.now() - started),
    },
  };
  return { diff, changes: results.map((r) => r.changes).filter((c) => c.changes.size > 0 || (c.counts?.size ?? 0) > 0) };
}
