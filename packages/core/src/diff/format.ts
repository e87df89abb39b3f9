import type { DatabaseDiff, RowChangeView, SchemaChange, TableDiff } from './types.js';

/** Values longer than this (as shown) are cut, with an ellipsis. */
const MAX_VALUE_CHARS = 60;
/** How many schema changes the one-line summary names before "+N more". */
const SUMMARY_SCHEMA_CHANGES = 3;
const SIGNS: Record<SchemaChange['change'], string> = { added: '+', dropped: '-', changed: '~' };

export interface SummarizeOptions {
  /** How many tables the line names before "…and N more tables". @default 5 */
  maxTables?: number;
}

/**
 * One short line that says what a diff holds, for the first thing a person reads (a failed test's report):
 * `accounts: +3 rows, ~1 row; orders: -2 rows; schema: +index accounts_email_idx, +column accounts.note`,
 * or `no changes`. Names in the `public` schema lose their prefix.
 */
export function summarizeDiff(diff: DatabaseDiff, options: SummarizeOptions = {}): string {
  const maxTables = Math.max(0, options.maxTables ?? 5);
  const tables = diff.tables.filter((t) => t.inserted + t.updated + t.deleted > 0);
  const parts = tables.slice(0, maxTables).map((t) => `${shortName(t.table)}: ${rowCounts(t)}`);
  const hidden = tables.length - maxTables;
  if (hidden > 0) parts.push(`…and ${hidden} more ${plural(hidden, 'table')}`);
  if (diff.schema.length > 0) {
    const shown = diff.schema.slice(0, SUMMARY_SCHEMA_CHANGES).map(describeChange);
    const more = diff.schema.length - shown.length;
    parts.push(`schema: ${shown.join(', ')}${more > 0 ? `, +${more} more` : ''}`);
  }
  return parts.length > 0 ? parts.join('; ') : 'no changes';
}

export interface FormatOptions {
  /** Colour the text with ANSI escapes (for a terminal). @default false */
  color?: boolean;
}

/**
 * The diff as `pgbranch diff` prints it: a header (`base → head`), the schema changes (with the definitions
 * before and after of changed objects), then per table its counts, how its rows were found and matched, and
 * its first changed rows (`+` inserted, `-` deleted, `~` updated with only the changed columns), and a last
 * line with what the comparison read. Plain text unless `color` is set.
 */
export function formatDiff(diff: DatabaseDiff, options: FormatOptions = {}): string {
  const paint = painter(options.color ?? false);
  const lines = [paint.bold(`${diff.base} → ${diff.head}`), ''];
  if (diff.schema.length === 0 && diff.tables.length === 0) lines.push('no changes', '');
  if (diff.schema.length > 0) lines.push(...schemaSection(diff.schema, paint), '');
  if (diff.tables.length > 0) lines.push(...rowsSection(diff.tables, paint), '');
  lines.push(paint.dim(statsLine(diff)));
  return lines.join('\n');
}

function schemaSection(changes: SchemaChange[], paint: Painter): string[] {
  const kindWidth = Math.max(...changes.map((c) => c.kind.length));
  const lines = ['schema:'];
  for (const c of changes) {
    lines.push(`  ${paint.sign(SIGNS[c.change], `${SIGNS[c.change]} ${c.kind.padEnd(kindWidth)} ${shortName(c.id)}`)}`);
    if (c.change !== 'changed') continue;
    lines.push(...definitionLines('before:', c.before?.definition), ...definitionLines('after: ', c.after?.definition));
  }
  return lines;
}

/** A definition under its label, every line of it indented under the first. */
function definitionLines(label: string, definition: string | undefined): string[] {
  const [first = '', ...rest] = (definition ?? '(none)').split('\n');
  const indent = ' '.repeat(6 + label.length + 1);
  return [`      ${label} ${first}`, ...rest.map((line) => indent + line)];
}

function rowsSection(tables: TableDiff[], paint: Painter): string[] {
  const names = tables.map((t) => `${shortName(t.table)}:`);
  const counts = tables.map(rowCounts);
  const nameWidth = Math.max(...names.map((n) => n.length));
  const countWidth = Math.max(...counts.map((c) => c.length));
  const lines = ['rows:'];
  tables.forEach((t, i) => {
    lines.push(`  ${paint.bold(names[i]!.padEnd(nameWidth))} ${counts[i]!.padEnd(countWidth)}  ${paint.dim(`(${howCompared(t)})`)}`);
    for (const row of t.rows) lines.push(`    ${paint.sign(rowSign(row), rowLine(row))}`);
    const more = t.inserted + t.updated + t.deleted - t.rows.length;
    if (more > 0) lines.push(`    … ${more} more`);
  });
  return lines;
}

function howCompared(t: TableDiff): string {
  const compared = t.compared === 'whole table' && t.reason ? `whole table: ${t.reason}` : t.compared;
  const keyed = t.keyedBy === 'primary key' ? `keyed by ${t.key.join(', ') || 'primary key'}` : 'keyed by whole row';
  return `${compared}; ${keyed}`;
}

function rowSign(row: RowChangeView): string {
  return row.change === 'inserted' ? '+' : row.change === 'deleted' ? '-' : '~';
}

/** `+ {row}`, `- {row}`, or `~ {key}: column before → after, …` with only the columns that changed. */
function rowLine(row: RowChangeView): string {
  if (row.change !== 'updated') return `${rowSign(row)} ${objectText(row.change === 'inserted' ? row.after : row.before)}`;
  const before = row.before ?? {};
  const after = row.after ?? {};
  const columns = row.columns ?? Object.keys({ ...before, ...after }).filter((c) => valueText(before[c]) !== valueText(after[c]));
  const changes = columns.map((c) => `${c} ${shortValue(before[c])} → ${shortValue(after[c])}`);
  return `~ ${objectText(row.key ?? before)}: ${changes.join(', ') || '(no column differs)'}`;
}

function statsLine(diff: DatabaseDiff): string {
  const s = diff.stats;
  return `compared ${s.tables} ${plural(s.tables, 'table')}: ${s.pagesRead} ${plural(s.pagesRead, 'page')} read, ${s.pagesChanged} changed, ${Math.round(s.durationMs)} ms`;
}

/** `+3 rows, ~1 row, -2 rows` (counts that are zero left out). */
function rowCounts(t: TableDiff): string {
  const parts: string[] = [];
  if (t.inserted > 0) parts.push(`+${t.inserted} ${plural(t.inserted, 'row')}`);
  if (t.updated > 0) parts.push(`~${t.updated} ${plural(t.updated, 'row')}`);
  if (t.deleted > 0) parts.push(`-${t.deleted} ${plural(t.deleted, 'row')}`);
  return parts.join(', ') || 'no rows';
}

/** `+index accounts_email_idx`: a schema change in a few words. */
function describeChange(change: SchemaChange): string {
  return `${SIGNS[change.change]}${change.kind} ${shortName(change.id)}`;
}

/** Names in the `public` schema are shown without it. */
function shortName(id: string): string {
  return id.startsWith('public.') ? id.slice('public.'.length) : id;
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}

/** `{"id": 5, "email": "a@b"}`, each value cut to its maximum length. */
function objectText(row: Record<string, unknown> | undefined): string {
  if (!row) return '(no values)';
  return `{${Object.entries(row).map(([k, v]) => `${JSON.stringify(k)}: ${shortValue(v)}`).join(', ')}}`;
}

function shortValue(value: unknown): string {
  const text = value === '[redacted]' ? '[redacted]' : valueText(value);
  if (text.length <= MAX_VALUE_CHARS) return text;
  // A cut string keeps its closing quote, so it still reads as one string.
  return typeof value === 'string' ? `${text.slice(0, MAX_VALUE_CHARS - 2)}…"` : `${text.slice(0, MAX_VALUE_CHARS - 1)}…`;
}

/** A value as jsonb prints it (`{"a": 1, "b": [1, 2]}`), so rows read as they are stored. */
function valueText(value: unknown): string {
  if (value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(valueText).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${valueText(v)}`).join(', ')}}`;
  }
  return JSON.stringify(value) ?? String(value);
}

interface Painter {
  bold(text: string): string;
  dim(text: string): string;
  /** Green for `+`, red for `-`, yellow for `~`. */
  sign(sign: string, text: string): string;
}

function painter(color: boolean): Painter {
  const wrap = (code: string) => (text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const bySign: Record<string, (text: string) => string> = { '+': wrap('32'), '-': wrap('31'), '~': wrap('33') };
  return { bold: wrap('1'), dim: wrap('2'), sign: (sign, text) => (bySign[sign] ?? ((t: string) => t))(text) };
}
