import type { SchemaChange, SchemaObject } from '../types.js';
import { objectKey } from './catalog.js';
import { alterColumn } from './column-statements.js';
import { ownerKeys } from './compare.js';
import { quoteLiteral } from './quote.js';

/** How schemaStatements writes its DDL. */
export interface SchemaStatementsContext {
  /**
   * Leave function bodies to be checked when they run, as pg_dump does (`SET LOCAL check_function_bodies = off` first,
   * when a function is created): a SQL function may read a table created after it. Needs the statements to run in one
   * transaction, as a merge does.
   * @default true
   */
  deferFunctionBodies?: boolean;
}

/** Drop phases, in the order they run; then create phases. */
const DROP_PHASES = ['trigger', 'view', 'foreign key', 'constraint', 'index', 'column', 'table', 'function', 'sequence', 'type', 'schema', 'extension'] as const;
const CREATE_PHASES = ['extension', 'schema', 'type', 'sequence', 'function', 'table', 'attach', 'column', 'not null', 'constraint', 'foreign key', 'index', 'view', 'trigger'] as const;
type Phase = (typeof DROP_PHASES)[number] | (typeof CREATE_PHASES)[number];

/** Foreign keys go after other constraints; indexes of materialized views are created with the views. */
const phaseOf = (o: SchemaObject, creating = false): Phase => {
  if (o.kind === 'constraint' && o.definition.startsWith('FOREIGN KEY')) return 'foreign key';
  if (creating && o.kind === 'index' && o.dependsOn?.some((k) => k.startsWith('view:'))) return 'view';
  return o.kind;
};

/** Plain views are replaced in place; every other changed object of these kinds is dropped and created again. */
const replacedInPlace = (o: SchemaObject) => o.kind === 'view' && !o.definition.startsWith('materialized view');

/** A function's header (name, arguments, result): when it is unchanged, CREATE OR REPLACE can change the rest. */
const functionHeader = (o: SchemaObject) => (o.create ?? '').split('\n').slice(0, 2).join('\n');

/**
 * The DDL that applies `changes` to a database that has their `before` objects: drops first, in reverse dependency
 * order (triggers, views, foreign keys, other constraints, indexes, columns, tables, functions, sequences, types,
 * schemas, extensions), then creates in dependency order (extensions, schemas, types, sequences, functions, tables
 * with their parts, owned-by links, columns, constraints, foreign keys, indexes, views, triggers).
 *
 * A changed object is dropped and created again, except: columns (ALTER COLUMN), functions whose header is unchanged
 * and plain views (CREATE OR REPLACE), sequences and extensions (ALTER), enums that only gained labels (ADD VALUE)
 * and tables whose persistence alone changed (SET LOGGED/UNLOGGED). A table or materialized view that is recreated
 * is created with all its parts (the changes listed for those parts are then left out).
 */
export function schemaStatements(changes: SchemaChange[], context: SchemaStatementsContext = {}): string[] {
  return phasedStatements(changes, context).map((s) => s.sql);
}

/** A statement of schemaStatements with the phase it runs in (drops are `drop …`; `prelude` sets the session up). */
export interface PhasedStatement {
  phase: Phase | `drop ${Phase}` | 'prelude';
  sql: string;
}

/**
 * The statements of a merge in three groups: `first`, enum labels a type gains (ADD VALUE: a label added in a
 * transaction cannot be used by rows until it commits, so they are committed before the merge — they only add);
 * `beforeRows`, everything rows need (drops, types, tables, columns); `afterRows`, what checks or indexes rows
 * (constraints, foreign keys, indexes, NOT NULL on existing columns, triggers), so that a source that filled a column
 * and then constrained it is merged in that order, as pg_restore does.
 */
export function mergeStatements(changes: SchemaChange[]): { first: string[]; beforeRows: string[]; afterRows: string[] } {
  const out = { first: [] as string[], beforeRows: [] as string[], afterRows: [] as string[] };
  const after = new Set<string>(['not null', 'constraint', 'foreign key', 'index', 'trigger']);
  for (const s of phasedStatements(changes)) {
    if (s.phase === 'type' && /\bADD VALUE\b/.test(s.sql)) out.first.push(s.sql);
    else if (after.has(s.phase) || (s.phase === 'column' && /\bSET NOT NULL\s*$/.test(s.sql))) out.afterRows.push(s.sql);
    else out.beforeRows.push(s.sql);
  }
  return out;
}

function phasedStatements(changes: SchemaChange[], context: SchemaStatementsContext = {}): PhasedStatement[] {
  const drops: SchemaObject[] = [];
  const creates: SchemaObject[] = [];
  const alters = new Map<Phase, string[]>();
  const alter = (phase: Phase, ...statements: string[]) => alters.set(phase, [...(alters.get(phase) ?? []), ...statements]);
  const recreated = new Set<string>();
  for (const c of changes) {
    if (c.change === 'changed' && (c.kind === 'table' || (c.kind === 'view' && !replacedInPlace(c.after!)))) {
      if (!(c.kind === 'table' && alterTable(c.before!, c.after!, alter))) recreated.add(objectKey(c.kind, c.id));
    }
  }
  const create = (o: SchemaObject) => {
    creates.push(o);
    if (o.kind === 'table' || o.kind === 'view') creates.push(...(o.parts ?? []).filter((p) => p.kind !== 'column'));
  };
  for (const c of changes) {
    const o = (c.after ?? c.before)!;
    if (ownerKeys(o).some((k) => recreated.has(k))) continue;
    if (c.change === 'added') create(c.after!);
    else if (c.change === 'dropped') drops.push(c.before!);
    else if (recreated.has(objectKey(c.kind, c.id))) {
      drops.push(c.before!);
      create(c.after!);
    } else if (c.kind === 'table') {
      continue; // altered above
    } else if (!alterInPlace(c.before!, c.after!, alter, creates)) {
      drops.push(c.before!);
      create(c.after!);
    }
  }
  const out: PhasedStatement[] = [];
  const add = (phase: PhasedStatement['phase'], sql: string[]) => out.push(...sql.map((s) => ({ phase, sql: s })));
  if (context.deferFunctionBodies !== false && creates.some((o) => o.kind === 'function')) add('prelude', ['SET LOCAL check_function_bodies = off']);
  for (const phase of DROP_PHASES) add(`drop ${phase}`, dropStatements(drops.filter((o) => phaseOf(o) === phase)));
  for (const phase of CREATE_PHASES) {
    let objects = creates.filter((o) => phaseOf(o, true) === phase);
    if (phase === 'table' || phase === 'view') objects = dependencyOrder(objects);
    if (phase === 'column') {
      // A NOT NULL column added without a default: added nullable, made NOT NULL once the rows that fill it are in.
      for (const o of objects) {
        const c = o.column;
        const fill = c && c.notNull && !c.default && !c.identity && !c.generated && !o.create!.includes('\n') && o.create!.endsWith(' NOT NULL');
        add(phase, [fill ? o.create!.slice(0, -' NOT NULL'.length) : o.create!]);
        if (fill) add('not null', [`ALTER TABLE ${c.table} ALTER COLUMN ${o.sqlName} SET NOT NULL`]);
      }
    } else add(phase, objects.map((o) => o.create!));
    if (phase === 'attach') add(phase, creates.flatMap((o) => (o.attach ? [o.attach] : [])));
    add(phase, alters.get(phase) ?? []);
  }
  return out;
}

/** Persistence is the only change SET LOGGED/UNLOGGED can make; false when the table must be recreated. */
function alterTable(before: SchemaObject, after: SchemaObject, alter: (phase: Phase, ...s: string[]) => void): boolean {
  const [persistenceBefore, ...restBefore] = before.definition.split(' ');
  const [persistenceAfter, ...restAfter] = after.definition.split(' ');
  if (restBefore.join(' ') !== restAfter.join(' ')) return false;
  if (persistenceBefore !== persistenceAfter) alter('table', `ALTER TABLE ${after.sqlName} SET ${persistenceAfter === 'unlogged' ? 'UNLOGGED' : 'LOGGED'}`);
  return true;
}

/** Changes an object without dropping it where its kind allows; false when it must be dropped and created again. */
function alterInPlace(before: SchemaObject, after: SchemaObject, alter: (phase: Phase, ...s: string[]) => void, creates: SchemaObject[]): boolean {
  switch (after.kind) {
    case 'extension':
      alter('extension', after.update!);
      return true;
    case 'schema':
      return true;
    case 'sequence':
      alter('sequence', after.update!);
      if (after.attach && after.attach !== before.attach) alter('attach', after.attach);
      return true;
    case 'type': {
      const added = addedEnumLabels(before, after);
      if (!added) return false;
      alter('type', ...added);
      return true;
    }
    case 'column': {
      const statements = alterColumn(before, after);
      if (!statements) return false;
      alter('column', ...statements);
      return true;
    }
    case 'function':
      if (functionHeader(before) !== functionHeader(after)) return false;
      creates.push(after);
      return true;
    case 'view':
      if (!replacedInPlace(after)) return false;
      creates.push(after);
      return true;
    default:
      return false;
  }
}

/** ALTER TYPE … ADD VALUE for each new label, when the enum only gained labels (else null). */
function addedEnumLabels(before: SchemaObject, after: SchemaObject): string[] | null {
  const old = before.labels;
  const now = after.labels;
  if (!old || !now) return null;
  const kept = now.filter((l) => old.includes(l));
  if (kept.length !== old.length || kept.some((l, i) => l !== old[i])) return null;
  return now.flatMap((label, i) => {
    if (old.includes(label)) return [];
    const place = i > 0 ? ` AFTER ${quoteLiteral(now[i - 1]!)}` : now.length > 1 ? ` BEFORE ${quoteLiteral(now[1]!)}` : '';
    return [`ALTER TYPE ${after.sqlName} ADD VALUE ${quoteLiteral(label)}${place}`];
  });
}

/** Drops of one phase: tables in one statement (Postgres orders the foreign keys between them), views dependents first. */
function dropStatements(objects: SchemaObject[]): string[] {
  if (objects.length === 0) return [];
  if (objects[0]!.kind === 'table') return [`DROP TABLE ${dependencyOrder(objects).reverse().map((o) => o.sqlName).join(', ')}`];
  if (objects[0]!.kind === 'view') return dependencyOrder(objects).reverse().map((o) => o.drop!);
  return objects.map((o) => o.drop!);
}

/** `objects` with each after the ones it depends on (dependsOn, among these objects); by id otherwise. */
export function dependencyOrder(objects: SchemaObject[]): SchemaObject[] {
  const byKey = new Map(objects.map((o) => [objectKey(o.kind, o.id), o]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const out: SchemaObject[] = [];
  const visit = (key: string) => {
    if (done.has(key) || visiting.has(key)) return;
    const o = byKey.get(key);
    if (!o) return;
    visiting.add(key);
    for (const dep of o.dependsOn ?? []) visit(dep);
    visiting.delete(key);
    done.add(key);
    out.push(o);
  };
  for (const key of [...byKey.keys()].sort()) visit(key);
  return out;
}
