import type pg from 'pg';
import { CursorRows } from './cursor-rows.js';
import { connectBoth } from './pg-client.js';
import type { RowCounts } from './row-changes.js';
import { userTables, type UserTable } from './user-tables.js';

/** Row changes of one table found by reading both sides whole. */
export interface TableCounts extends RowCounts {
  table: string;
}

/**
 * The diff a person without page LSNs would run (what a pg_dump-style comparison costs): every row of every table
 * read from both sides in primary-key order (one consistent snapshot per side, through cursors, both sides at
 * once) and merge-joined in Node — a key on one side only is an insert or a delete, a key on both with different
 * `to_jsonb` text an update. Tables without a primary key are compared as multisets of whole rows. Returns the
 * tables with changes.
 */
export async function fullCompare(baseUrl: string, headUrl: string): Promise<TableCounts[]> {
  const [base, head] = await connectBoth(baseUrl, headUrl);
  try {
    await Promise.all([base, head].map((c) => c.query('begin isolation level repeatable read read only')));
    const [baseTables, headTables] = await Promise.all([userTables(base), userTables(head)]);
    const names = [...new Set([...baseTables, ...headTables].map((t) => t.sql))].sort();
    const changed: TableCounts[] = [];
    for (const name of names) {
      const before = baseTables.find((t) => t.sql === name);
      const after = headTables.find((t) => t.sql === name);
      let counts: RowCounts;
      if (!before) counts = { inserted: await countRows(head, name), updated: 0, deleted: 0 };
      else if (!after) counts = { inserted: 0, updated: 0, deleted: await countRows(base, name) };
      else counts = await compareTable(base, head, after);
      if (counts.inserted || counts.updated || counts.deleted) changed.push({ table: name, ...counts });
    }
    await Promise.all([base, head].map((c) => c.query('commit')));
    return changed;
  } finally {
    await Promise.all([base.end(), head.end()]);
  }
}

async function compareTable(base: pg.Client, head: pg.Client, table: UserTable): Promise<RowCounts> {
  const sql = selectInKeyOrder(table);
  const [a, b] = await Promise.all([CursorRows.open(base, sql), CursorRows.open(head, sql)]);
  const keyed = table.key.length > 0;
  // Keyed: columns are the key texts, then the row text. Whole rows: the row text is the key.
  const keys = keyed ? table.key.length : 1;
  const row = keyed ? keys : 0;
  const integer = keyed ? table.integer : [false];
  const counts: RowCounts = { inserted: 0, updated: 0, deleted: 0 };
  for (;;) {
    const x = a.current;
    const y = b.current;
    if (!x && !y) break;
    const order = !x ? 1 : !y ? -1 : compareKeys(x, y, keys, integer);
    // advance() gives a promise only at the end of a batch: awaiting nothing per row keeps the loop tight.
    let wait: Promise<void> | undefined;
    if (order < 0) {
      counts.deleted++;
      wait = a.advance();
    } else if (order > 0) {
      counts.inserted++;
      wait = b.advance();
    } else {
      if (x![row] !== y![row]) counts.updated++;
      const first = a.advance();
      if (first) await first;
      wait = b.advance();
    }
    if (wait) await wait;
  }
  await Promise.all([a.close(), b.close()]);
  return counts;
}

/** Integer keys are ordered as numbers; every other key (and whole rows) as text in byte order (COLLATE "C"). */
function selectInKeyOrder(table: UserTable): string {
  if (table.key.length === 0) return `select to_jsonb(t)::text from ${table.sql} t order by to_jsonb(t)::text collate "C"`;
  const keys = table.key.map((k) => `t.${k}::text`).join(', ');
  const order = table.key.map((k, i) => (table.integer[i] ? `t.${k}` : `t.${k}::text collate "C"`)).join(', ');
  return `select ${keys}, to_jsonb(t)::text from ${table.sql} t order by ${order}`;
}

/**
 * The order Postgres sorted the rows in. Text is compared by UTF-16 code units, which agrees with UTF-8 byte order
 * except between characters above U+FFFF and U+E000–U+FFFF (not in the benchmark's data).
 */
function compareKeys(x: unknown[], y: unknown[], keys: number, integer: boolean[]): number {
  for (let i = 0; i < keys; i++) {
    const a = x[i] as string;
    const b = y[i] as string;
    if (a === b) continue;
    if (integer[i]) return a.length < 16 && b.length < 16 ? Number(a) - Number(b) : BigInt(a) < BigInt(b) ? -1 : 1;
    return a < b ? -1 : 1;
  }
  return 0;
}

async function countRows(client: pg.Client, table: string): Promise<number> {
  const { rows } = await client.query<{ n: string }>(`select count(*) as n from ${table}`);
  return Number(rows[0]!.n);
}
