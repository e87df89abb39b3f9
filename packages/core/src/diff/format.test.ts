import { describe, expect, it } from 'vitest';
import { formatDiff, summarizeDiff } from './format.js';
import type { DatabaseDiff, SchemaChange, TableDiff } from './types.js';

const stats = { tables: 2, pagesRead: 40, pagesChanged: 3, rowVersions: 12, durationMs: 7.4 };

function diffOf(tables: TableDiff[], schema: SchemaChange[] = []): DatabaseDiff {
  return { base: 'snapshot app (ab12cd34ef56)', head: 'branch feature', schema, tables, stats };
}

function table(name: string, counts: Partial<Pick<TableDiff, 'inserted' | 'updated' | 'deleted'>>, more: Partial<TableDiff> = {}): TableDiff {
  return { table: name, keyedBy: 'primary key', key: ['id'], inserted: 0, updated: 0, deleted: 0, rows: [], compared: 'changed pages', ...counts, ...more };
}

const added = (kind: SchemaChange['kind'], id: string): SchemaChange => ({ change: 'added', kind, id, after: { kind, id, definition: `${kind} ${id}` } });

describe('summarizeDiff', () => {
  it('says "no changes" for an empty diff', () => {
    expect(summarizeDiff(diffOf([]))).toBe('no changes');
  });

  it('gives counts per table and the schema changes, without the public prefix', () => {
    const diff = diffOf(
      [table('public.accounts', { inserted: 3, updated: 1 }), table('relay.orders', { deleted: 2 })],
      [added('index', 'public.accounts_email_idx'), added('column', 'public.accounts.note')],
    );
    expect(summarizeDiff(diff)).toBe('accounts: +3 rows, ~1 row; relay.orders: -2 rows; schema: +index accounts_email_idx, +column accounts.note');
  });

  it('names at most maxTables tables and three schema changes, then says how many more', () => {
    const tables = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((n) => table(`public.${n}`, { inserted: 1 }));
    const schema: SchemaChange[] = [
      added('table', 'public.x'),
      { change: 'dropped', kind: 'index', id: 'public.y_idx' },
      { change: 'changed', kind: 'function', id: 'public.f(integer)' },
      added('column', 'public.x.z'),
      added('column', 'public.x.w'),
    ];
    expect(summarizeDiff(diffOf(tables, schema))).toBe(
      'a: +1 row; b: +1 row; c: +1 row; d: +1 row; e: +1 row; …and 2 more tables; schema: +table x, -index y_idx, ~function f(integer), +2 more',
    );
    expect(summarizeDiff(diffOf(tables.slice(0, 3)), { maxTables: 2 })).toBe('a: +1 row; b: +1 row; …and 1 more table');
  });

  it('leaves out tables listed without any changed row', () => {
    expect(summarizeDiff(diffOf([table('public.a', {})]))).toBe('no changes');
  });
});

describe('formatDiff', () => {
  const accounts = table(
    'public.accounts',
    { inserted: 2, updated: 1, deleted: 1 },
    {
      rows: [
        { change: 'inserted', key: { id: 5 }, after: { id: 5, email: 'a@b', password: '[redacted]' } },
        { change: 'updated', key: { id: 3 }, before: { id: 3, status: 'open', total: 10, note: 'x' }, after: { id: 3, status: 'closed', total: 12, note: 'x' }, columns: ['status', 'total'] },
        { change: 'deleted', key: { id: 9 }, before: { id: 9, email: 'c@d', password: '[redacted]' } },
      ],
    },
  );
  const log = table('log', { deleted: 1 }, { keyedBy: 'whole row', key: [], compared: 'whole table', reason: 'the table has no visibility map', rows: [{ change: 'deleted', before: { msg: 'm'.repeat(100), tags: ['a', 'b'] } }] });
  const schema: SchemaChange[] = [
    added('index', 'public.accounts_email_idx'),
    {
      change: 'changed',
      kind: 'function',
      id: 'public.total(integer)',
      before: { kind: 'function', id: 'public.total(integer)', definition: 'CREATE FUNCTION total(integer)\nRETURNS integer AS 1' },
      after: { kind: 'function', id: 'public.total(integer)', definition: 'CREATE FUNCTION total(integer)\nRETURNS integer AS 2' },
    },
  ];

  it('prints the header, schema changes with definitions, rows per table and the stats line', () => {
    expect(formatDiff(diffOf([accounts, log], schema))).toBe(
      [
        'snapshot app (ab12cd34ef56) → branch feature',
        '',
        'schema:',
        '  + index    accounts_email_idx',
        '  ~ function total(integer)',
        '      before: CREATE FUNCTION total(integer)',
        '              RETURNS integer AS 1',
        '      after:  CREATE FUNCTION total(integer)',
        '              RETURNS integer AS 2',
        '',
        'rows:',
        '  accounts: +2 rows, ~1 row, -1 row  (changed pages; keyed by id)',
        '    + {"id": 5, "email": "a@b", "password": [redacted]}',
        '    ~ {"id": 3}: status "open" → "closed", total 10 → 12',
        '    - {"id": 9, "email": "c@d", "password": [redacted]}',
        '    … 1 more',
        `  log:      -1 row                   (whole table: the table has no visibility map; keyed by whole row)`,
        `    - {"msg": "${'m'.repeat(57)}…", "tags": ["a", "b"]}`,
        '',
        'compared 2 tables: 40 pages read, 3 changed, 7 ms',
      ].join('\n'),
    );
  });

  it('finds the changed columns of an update when the diff does not list them', () => {
    const t = table('public.t', { updated: 1 }, { rows: [{ change: 'updated', key: { id: 1 }, before: { id: 1, a: { x: [1] }, b: 2 }, after: { id: 1, a: { x: [2] }, b: 2 } }] });
    expect(formatDiff(diffOf([t]))).toContain('    ~ {"id": 1}: a {"x": [1]} → {"x": [2]}\n');
  });

  it('says "no changes" for an empty diff, and colours only when asked', () => {
    const empty = formatDiff(diffOf([]));
    expect(empty).toBe('snapshot app (ab12cd34ef56) → branch feature\n\nno changes\n\ncompared 2 tables: 40 pages read, 3 changed, 7 ms');
    expect(formatDiff(diffOf([accounts], schema))).not.toContain('\x1b[');
    const coloured = formatDiff(diffOf([accounts], schema), { color: true });
    expect(coloured).toContain('\x1b[32m+ {"id": 5');
    expect(coloured).toContain('\x1b[31m- {"id": 9');
    expect(coloured.replace(/\x1b\[\d+m/g, '')).toBe(formatDiff(diffOf([accounts], schema)));
  });
});
