import { describe, expect, it } from 'vitest';
import type { SchemaObject } from '../types.js';
import { objectKey } from './catalog.js';
import { compareSchemas } from './compare.js';
import { describeSchemaChange, describeSchemaConflict } from './describe.js';
import { mergeSchemas } from './merge-schemas.js';
import { quoteIdent } from './quote.js';
import { schemaStatements } from './statements.js';

/** Small hand-made objects: `create`/`drop` name the object so the order of statements is easy to read. */
function obj(kind: SchemaObject['kind'], id: string, definition = 'v1', extra: Partial<SchemaObject> = {}): SchemaObject {
  return { kind, id, definition, create: `create ${kind} ${id}`, drop: `drop ${kind} ${id}`, sqlName: id, ...extra };
}
const catalog = (...objects: SchemaObject[]) => new Map(objects.map((o) => [objectKey(o.kind, o.id), o]));
const col = (table: string, name: string, definition = 'integer', extra: Partial<SchemaObject> = {}) =>
  obj('column', `${table}.${name}`, definition, { table, column: { table, type: definition, notNull: false }, sqlName: name, ...extra });

const accounts = [
  obj('table', 'public.accounts', 'permanent'),
  col('public.accounts', 'id'),
  col('public.accounts', 'email', 'text'),
  obj('constraint', 'public.accounts.accounts_pkey', 'PRIMARY KEY (id)', { table: 'public.accounts' }),
  obj('index', 'public.accounts_email_idx', 'CREATE INDEX …', { table: 'public.accounts' }),
  obj('trigger', 'public.accounts.accounts_touch', 'CREATE TRIGGER …', { table: 'public.accounts' }),
];

describe('compareSchemas', () => {
  it('lists added, dropped and changed objects by kind then id', () => {
    const before = catalog(obj('function', 'public.touch()'), obj('index', 'public.b_idx'), obj('index', 'public.a_idx'), obj('view', 'public.v'));
    const after = catalog(obj('function', 'public.touch()', 'v2'), obj('index', 'public.a_idx'), obj('type', 'public.mood'), obj('view', 'public.v'));
    expect(compareSchemas(before, after).map(describeSchemaChange)).toEqual(['+type public.mood', '-index b_idx', '~function public.touch()']);
  });

  it('folds the parts of an added or dropped table into the table', () => {
    const serial = obj('sequence', 'public.accounts_id_seq', 'bigint', { table: 'public.accounts' });
    const [added] = compareSchemas(catalog(), catalog(...accounts, serial));
    expect(added!.change).toBe('added');
    expect(added!.after!.parts!.map((p) => p.id).sort()).toEqual([
      'public.accounts.accounts_pkey', 'public.accounts.accounts_touch', 'public.accounts.email', 'public.accounts.id', 'public.accounts_email_idx', 'public.accounts_id_seq',
    ]);
    expect(compareSchemas(catalog(...accounts, serial), catalog()).map(describeSchemaChange)).toEqual(['-table public.accounts']);
  });

  it('lists the parts of a table that stays', () => {
    const after = catalog(...accounts.filter((o) => o.kind !== 'index'), col('public.accounts', 'note', 'text'));
    expect(compareSchemas(catalog(...accounts), after).map(describeSchemaChange)).toEqual(['+column accounts.note', '-index accounts_email_idx']);
  });
});

describe('schemaStatements', () => {
  it('drops in reverse dependency order, then creates in dependency order', () => {
    const gone = [
      obj('extension', 'citext'), obj('schema', 'old'), obj('type', 'public.mood'), obj('sequence', 'public.s'),
      obj('function', 'public.f()'), obj('table', 'public.t'), col('public.u', 'c'),
      obj('constraint', 'public.u.u_check', 'CHECK (c > 0)', { table: 'public.u' }),
      obj('constraint', 'public.u.u_t_fkey', 'FOREIGN KEY (c) REFERENCES public.t(id)', { table: 'public.u' }),
      obj('index', 'public.u_idx', 'x', { table: 'public.u' }), obj('view', 'public.v'), obj('trigger', 'public.u.trg', 'x', { table: 'public.u' }),
    ];
    const drops = schemaStatements(compareSchemas(catalog(...gone), catalog()));
    expect(drops).toEqual([
      'drop trigger public.u.trg', 'drop view public.v', 'drop constraint public.u.u_t_fkey', 'drop constraint public.u.u_check',
      'drop index public.u_idx', 'drop column public.u.c', 'DROP TABLE public.t', 'drop function public.f()', 'drop sequence public.s',
      'drop type public.mood', 'drop schema old', 'drop extension citext',
    ]);
    const creates = schemaStatements(compareSchemas(catalog(), catalog(...gone)), { deferFunctionBodies: false });
    expect(creates).toEqual([
      'create extension citext', 'create schema old', 'create type public.mood', 'create sequence public.s', 'create function public.f()',
      'create table public.t', 'create column public.u.c', 'create constraint public.u.u_check', 'create constraint public.u.u_t_fkey',
      'create index public.u_idx', 'create view public.v', 'create trigger public.u.trg',
    ]);
  });

  it('creates an added table with its parts and owned sequence, views after the views they read', () => {
    const serial = obj('sequence', 'public.accounts_id_seq', 'bigint', { table: 'public.accounts', attach: 'owned by accounts.id' });
    const v2 = obj('view', 'public.a_view', 'view: …', { dependsOn: ['view:public.b_view', 'table:public.accounts'] });
    const v1 = obj('view', 'public.b_view', 'view: …', { dependsOn: ['table:public.accounts'] });
    const statements = schemaStatements(compareSchemas(catalog(), catalog(...accounts, serial, v2, v1)));
    expect(statements).toEqual([
      'create sequence public.accounts_id_seq', 'create table public.accounts', 'owned by accounts.id',
      'create constraint public.accounts.accounts_pkey', 'create index public.accounts_email_idx',
      'create view public.b_view', 'create view public.a_view', 'create trigger public.accounts.accounts_touch',
    ]);
    expect(schemaStatements(compareSchemas(catalog(v2, v1), catalog()))).toEqual(['drop view public.a_view', 'drop view public.b_view']);
  });

  it('changes columns with ALTER COLUMN, functions with CREATE OR REPLACE when their header stays, other objects by drop and create', () => {
    const column = (type: string, notNull: boolean, dflt?: string) =>
      col('public.t', 'n', type, { sqlName: 'n', column: { table: 'public.t', type, notNull, ...(dflt ? { default: dflt } : {}) } });
    const fn = (body: string, header = 'CREATE OR REPLACE FUNCTION public.f()\n RETURNS integer') => obj('function', 'public.f()', body, { create: `${header}\n${body}` });
    const before = catalog(column('integer', false, '0'), fn('AS 1'), obj('index', 'public.i', 'one', { table: 'public.t' }), obj('function', 'public.g()', 'x', { create: 'a\nb' }));
    const after = catalog(column('bigint', true, '1'), fn('AS 2'), obj('index', 'public.i', 'two', { table: 'public.t' }), obj('function', 'public.g()', 'y', { create: 'a\nc' }));
    expect(schemaStatements(compareSchemas(before, after))).toEqual([
      'SET LOCAL check_function_bodies = off',
      'drop index public.i',
      'drop function public.g()',
      'CREATE OR REPLACE FUNCTION public.f()\n RETURNS integer\nAS 2',
      'a\nc',
      'ALTER TABLE public.t ALTER COLUMN n DROP DEFAULT',
      'ALTER TABLE public.t ALTER COLUMN n TYPE bigint USING n::bigint',
      'ALTER TABLE public.t ALTER COLUMN n SET DEFAULT 1',
      'ALTER TABLE public.t ALTER COLUMN n SET NOT NULL',
      'create index public.i',
    ]);
  });

  it('recreates a table whose partitioning changed with all its parts, and only sets persistence when that alone changed', () => {
    const parted = catalog(obj('table', 'public.accounts', 'permanent partition by RANGE (id)'), ...accounts.slice(1));
    const recreated = schemaStatements(compareSchemas(catalog(...accounts), parted));
    expect(recreated).toEqual([
      'DROP TABLE public.accounts', 'create table public.accounts', 'create constraint public.accounts.accounts_pkey',
      'create index public.accounts_email_idx', 'create trigger public.accounts.accounts_touch',
    ]);
    const unlogged = catalog(obj('table', 'public.accounts', 'unlogged'), ...accounts.slice(1));
    expect(schemaStatements(compareSchemas(catalog(...accounts), unlogged))).toEqual(['ALTER TABLE public.accounts SET UNLOGGED']);
  });
});

describe('mergeSchemas', () => {
  const base = catalog(...accounts, obj('function', 'public.touch()'), obj('function', 'public.audit()'));

  it('applies theirs-only changes, leaves identical ones, and reports different ones', () => {
    const ours = catalog(...accounts, obj('function', 'public.touch()', 'ours'), obj('function', 'public.audit()', 'same'));
    const theirs = catalog(...accounts, col('public.accounts', 'note', 'text'), obj('function', 'public.touch()', 'theirs'), obj('function', 'public.audit()', 'same'));
    const merge = mergeSchemas(base, ours, theirs);
    expect(merge.changes.map(describeSchemaChange)).toEqual(['+column accounts.note']);
    expect(merge.conflicts.map(describeSchemaConflict)).toEqual(['function public.touch(): changed differently on both sides']);
    expect(merge.conflicts[0]).toMatchObject({ base: { definition: 'v1' }, ours: { definition: 'ours' }, theirs: { definition: 'theirs' } });
    expect(mergeSchemas(base, ours, theirs, { strategy: 'theirs' }).changes.map(describeSchemaChange)).toEqual(['+column accounts.note', '~function public.touch()']);
    expect(mergeSchemas(base, ours, theirs, { strategy: 'ours' }).changes.map(describeSchemaChange)).toEqual(['+column accounts.note']);
  });

  it('treats a table dropped on one side and changed inside on the other as a conflict on the table', () => {
    const ours = catalog(...accounts, col('public.accounts', 'note', 'text'), obj('function', 'public.touch()'), obj('function', 'public.audit()'));
    const theirs = catalog(obj('function', 'public.touch()'), obj('function', 'public.audit()'));
    const merge = mergeSchemas(base, ours, theirs);
    expect(merge.changes).toEqual([]);
    expect(merge.conflicts.map(describeSchemaConflict)).toEqual(['table public.accounts: dropped by theirs, while ours changed its parts']);
    expect(mergeSchemas(base, ours, theirs, { strategy: 'theirs' }).changes.map(describeSchemaChange)).toEqual(['-table public.accounts']);
    // The other way round: theirs' new column on a table ours dropped.
    const back = mergeSchemas(base, theirs, ours, { strategy: 'theirs' });
    expect(back.conflicts.map(describeSchemaConflict)).toEqual(['table public.accounts: dropped by ours, while theirs changed its parts']);
    expect(back.changes.map(describeSchemaChange)).toEqual(['+table public.accounts']);
    expect(back.changes[0]!.after!.parts!.map((p) => p.id)).toContain('public.accounts.note');
  });

  it('merges a table dropped on theirs when ours left it alone', () => {
    const theirs = catalog(obj('function', 'public.touch()'), obj('function', 'public.audit()'));
    expect(mergeSchemas(base, base, theirs)).toEqual({ changes: [expect.objectContaining({ change: 'dropped', id: 'public.accounts' })], conflicts: [] });
  });
});

describe('quoteIdent', () => {
  it('quotes as Postgres quote_ident does', () => {
    expect(['accounts', 'user', 'Hits', 'a"b', 'x$1', '1st', 'select', 'name'].map(quoteIdent)).toEqual([
      'accounts', '"user"', '"Hits"', '"a""b"', 'x$1', '"1st"', '"select"', 'name',
    ]);
  });
});
