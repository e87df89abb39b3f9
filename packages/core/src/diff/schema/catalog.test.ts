import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../engine/engine.js';
import type { SchemaObject } from '../types.js';
import { readCatalog } from './catalog.js';
import { compareSchemas } from './compare.js';
import { describeSchemaChange, describeSchemaConflict } from './describe.js';
import { mergeSchemas } from './merge-schemas.js';
import { schemaStatements } from './statements.js';

const RECIPE = fileURLToPath(new URL('../../../../../fixtures/recipes/sync-store', import.meta.url));

/** A feature branch's schema work on the sync store: one of each kind of change. */
const FEATURE = `
  CREATE TYPE doc_priority AS ENUM ('low', 'normal', 'high');
  ALTER TABLE documents ADD COLUMN priority doc_priority NOT NULL DEFAULT 'normal';
  CREATE TABLE comments (
    id         bigserial PRIMARY KEY,
    doc_id     uuid NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    body       text NOT NULL CHECK (body <> ''),
    created_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE INDEX comments_doc_idx ON comments (doc_id, created_at DESC);
  CREATE OR REPLACE FUNCTION clean_expired_locks(p_now timestamptz DEFAULT now()) RETURNS integer
  LANGUAGE plpgsql AS $$
  DECLARE released integer;
  BEGIN
    UPDATE locks SET active = false, released_at = p_now WHERE active AND expires_at <= p_now;
    GET DIAGNOSTICS released = ROW_COUNT;
    RETURN released;
  END $$;
  CREATE FUNCTION locks_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN NEW.acquired_at := coalesce(NEW.acquired_at, now()); RETURN NEW; END $$;
  CREATE TRIGGER locks_stamp BEFORE INSERT ON locks FOR EACH ROW EXECUTE FUNCTION locks_stamp();
  DROP INDEX documents_created_by_idx;
  CREATE VIEW open_conflicts AS SELECT c.id, c.doc_id, d.name FROM conflicts c JOIN documents d ON d.id = c.doc_id WHERE c.status = 'open';
  CREATE VIEW open_conflict_count AS SELECT count(*) AS n FROM open_conflicts;
`;

describe('schema catalog, diff and merge on real Postgres', () => {
  const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'schema-catalog');
  let engine: Engine;
  let snap: Awaited<ReturnType<Engine['snapshot']>>;
  const clients: pg.Client[] = [];

  /** A new branch of the sync store and a connection to it (both closed with the engine). */
  async function branchClient(): Promise<pg.Client> {
    const branch = await snap.branch();
    const client = new pg.Client({ connectionString: branch.url });
    await client.connect();
    clients.push(client);
    return client;
  }

  async function apply(client: pg.Client, statements: string[]): Promise<void> {
    await client.query('BEGIN');
    try {
      for (const statement of statements) await client.query(statement);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    }
  }

  beforeAll(async () => {
    await rm(cacheDir, { recursive: true, force: true });
    engine = await createEngine({ cacheDir });
    snap = await engine.snapshot({ name: 'sync-store', sql: [RECIPE] });
  });
  afterAll(async () => {
    for (const client of clients) await client.end();
    await engine?.close();
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('reads equal catalogs from two clones of one snapshot', async () => {
    const [a, b] = [await branchClient(), await branchClient()];
    const [left, right] = [await readCatalog(a), await readCatalog(b)];
    const kinds = new Set([...left.values()].map((o) => o.kind));
    expect([...kinds].sort()).toEqual(['column', 'constraint', 'extension', 'function', 'index', 'schema', 'table', 'trigger']);
    expect(left.get('index:public.documents_tags_idx')?.definition).toBe('CREATE INDEX documents_tags_idx ON public.documents USING gin (tags)');
    // Constraint-backed indexes are the constraint's; not-null constraints are the column's.
    expect(left.has('index:public.documents_pkey')).toBe(false);
    expect([...left.keys()].filter((k) => k.endsWith('_not_null'))).toEqual([]);
    expect(compareSchemas(left, right)).toEqual([]);
    expect((await a.query('SHOW search_path')).rows[0].search_path).toBe('"$user", public');
  });

  it('lists a branch’s schema changes and applies them to another clone until both read the same', async () => {
    const [ours, theirs] = [await branchClient(), await branchClient()];
    await theirs.query(FEATURE);
    const before = await readCatalog(ours);
    const after = await readCatalog(theirs);
    const changes = compareSchemas(before, after);
    expect(changes.map(describeSchemaChange)).toEqual([
      '+type public.doc_priority',
      '+table public.comments',
      '+column documents.priority',
      '-index documents_created_by_idx',
      '~function public.clean_expired_locks(timestamp with time zone)',
      '+function public.locks_stamp()',
      '+view public.open_conflict_count',
      '+view public.open_conflicts',
      '+trigger locks.locks_stamp',
    ]);
    const comments = changes.find((c) => c.id === 'public.comments')!.after!;
    expect(comments.parts!.map((p) => `${p.kind}:${p.id}`).sort()).toEqual([
      'column:public.comments.body', 'column:public.comments.created_at', 'column:public.comments.doc_id', 'column:public.comments.id',
      'constraint:public.comments.comments_body_check', 'constraint:public.comments.comments_doc_id_fkey', 'constraint:public.comments.comments_pkey',
      'index:public.comments_doc_idx', 'sequence:public.comments_id_seq',
    ]);

    const statements = schemaStatements(changes);
    // Views are created after the view they read.
    expect(statements.findIndex((s) => s.includes('VIEW public.open_conflicts'))).toBeLessThan(statements.findIndex((s) => s.includes('VIEW public.open_conflict_count')));
    await apply(ours, statements);
    expect(compareSchemas(await readCatalog(ours), after)).toEqual([]);
    // And back: dropping what the feature added, from the feature branch.
    await apply(theirs, schemaStatements(compareSchemas(after, before)));
    expect(compareSchemas(await readCatalog(theirs), before)).toEqual([]);
  });

  it('changes columns, constraints, indexes, triggers, functions and persistence in place or by drop and create', async () => {
    const [ours, theirs] = [await branchClient(), await branchClient()];
    await theirs.query(`
      ALTER TABLE locks ALTER COLUMN kind TYPE varchar(20), ALTER COLUMN kind SET DEFAULT 'maintenance', ALTER COLUMN holder DROP NOT NULL;
      ALTER TABLE locks SET UNLOGGED;
      DROP INDEX documents_type_idx; CREATE INDEX documents_type_idx ON documents (doc_type, state);
      ALTER TABLE documents DROP CONSTRAINT documents_version_check, ADD CONSTRAINT documents_version_check CHECK (version >= 0);
      DROP TRIGGER documents_touch ON documents;
      CREATE TRIGGER documents_touch BEFORE UPDATE OF name, state, content ON documents FOR EACH ROW EXECUTE FUNCTION documents_touch();
      DROP TABLE conflict_operations, conflicts;
      DROP FUNCTION update_document_cas;
      CREATE FUNCTION update_document_cas(p_doc_id uuid, p_expected_version integer, p_content jsonb, p_user text) RETURNS bigint
      LANGUAGE sql AS $$ UPDATE documents SET content = p_content, updated_by = p_user WHERE id = p_doc_id AND version = p_expected_version RETURNING version $$;
    `);
    const before = await readCatalog(ours);
    const after = await readCatalog(theirs);
    const changes = compareSchemas(before, after);
    expect(changes.map(describeSchemaChange)).toEqual([
      '-table public.conflict_operations',
      '-table public.conflicts',
      '~table public.locks',
      '~column locks.holder',
      '~column locks.kind',
      '~constraint documents.documents_version_check',
      // The check reads the column as varchar now: ((kind)::text = ANY (…)).
      '~constraint locks.locks_kind_check',
      '~index documents_type_idx',
      '+function public.update_document_cas(uuid, integer, jsonb, text)',
      '-function public.update_document_cas(uuid, integer, jsonb, text, timestamp with time zone)',
      '~trigger documents.documents_touch',
    ]);
    await apply(ours, schemaStatements(changes));
    expect(compareSchemas(await readCatalog(ours), after)).toEqual([]);
    await apply(theirs, schemaStatements(compareSchemas(after, before)));
    expect(compareSchemas(await readCatalog(theirs), before)).toEqual([]);
  });

  it('merges changes of different objects and reports an object changed differently on both sides', async () => {
    const [base, ours, theirs] = [await branchClient(), await branchClient(), await branchClient()];
    const touchLocks = (stamp: string) => `
      CREATE OR REPLACE FUNCTION clean_expired_locks(p_now timestamptz DEFAULT now()) RETURNS integer
      LANGUAGE plpgsql AS $$ BEGIN UPDATE locks SET active = false, released_at = ${stamp} WHERE active AND expires_at <= p_now; RETURN 0; END $$;`;
    await ours.query(`CREATE INDEX locks_client_idx ON locks (client_id); ALTER TABLE documents ALTER COLUMN name DROP NOT NULL; ${touchLocks('p_now')}`);
    await theirs.query(`ALTER TABLE locks ADD COLUMN note text; CREATE TABLE audit (id int PRIMARY KEY, at timestamptz NOT NULL);
      CREATE INDEX operations_client_idx ON operations (client_id); ${touchLocks('now()')}`);
    const baseCatalog = await readCatalog(base);
    const theirCatalog = await readCatalog(theirs);

    const merge = mergeSchemas(baseCatalog, await readCatalog(ours), theirCatalog);
    expect(merge.conflicts.map(describeSchemaConflict)).toEqual(['function public.clean_expired_locks(timestamp with time zone): changed differently on both sides']);
    expect(merge.changes.map(describeSchemaChange)).toEqual(['+table public.audit', '+column locks.note', '+index operations_client_idx']);
    await apply(ours, schemaStatements(merge.changes));
    const merged = await readCatalog(ours);
    expect(compareSchemas(theirCatalog, merged).map(describeSchemaChange)).toEqual([
      '~column documents.name',
      '+index locks_client_idx',
      '~function public.clean_expired_locks(timestamp with time zone)',
    ]);

    // Settled for theirs, the function comes across too; ours' own changes stay.
    const settled = mergeSchemas(baseCatalog, merged, theirCatalog, { strategy: 'theirs' });
    expect(settled.changes.map(describeSchemaChange)).toEqual(['~function public.clean_expired_locks(timestamp with time zone)']);
    await apply(ours, schemaStatements(settled.changes));
    expect(compareSchemas(theirCatalog, await readCatalog(ours)).map(describeSchemaChange)).toEqual(['~column documents.name', '+index locks_client_idx']);
  });

  it('reads enums, domains, composite types, serial sequences, unlogged and partitioned tables and materialized views', async () => {
    const [a, b] = [await branchClient(), await branchClient()];
    await b.query(`
      CREATE SCHEMA "Reporting";
      CREATE DOMAIN "Reporting".positive AS integer NOT NULL DEFAULT 1 CHECK (VALUE > 0);
      CREATE TYPE "Reporting".span AS (starts timestamptz, ends timestamptz);
      CREATE TYPE "Reporting".level AS ENUM ('a', 'b');
      CREATE UNLOGGED TABLE "Reporting"."Hits" (id serial, "user" text COLLATE "C", n "Reporting".positive, level "Reporting".level);
      CREATE TABLE "Reporting".events (at timestamptz NOT NULL, kind text) PARTITION BY RANGE (at);
      CREATE TABLE "Reporting".events_2025 PARTITION OF "Reporting".events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
      CREATE INDEX events_at_idx ON "Reporting".events (at);
      CREATE MATERIALIZED VIEW "Reporting".doc_counts AS SELECT workspace_id, count(*) AS n FROM documents GROUP BY workspace_id;
      CREATE UNIQUE INDEX doc_counts_ws_idx ON "Reporting".doc_counts (workspace_id);
    `);
    const before = await readCatalog(a);
    const after = await readCatalog(b);
    const changes = compareSchemas(before, after);
    expect(changes.map(describeSchemaChange)).toEqual([
      '+schema Reporting',
      '+type Reporting.level', '+type Reporting.positive', '+type Reporting.span',
      '+table Reporting.Hits', '+table Reporting.events', '+table Reporting.events_2025',
      '+materialized view Reporting.doc_counts',
    ]);
    const get = (key: string): SchemaObject => after.get(key)!;
    expect(get('table:Reporting.Hits').create).toContain('CREATE UNLOGGED TABLE "Reporting"."Hits"');
    expect(get('column:Reporting.Hits.user').definition).toBe('text COLLATE pg_catalog."C"');
    expect(get('sequence:Reporting.Hits_id_seq').attach).toBe('ALTER SEQUENCE "Reporting"."Hits_id_seq" OWNED BY "Reporting"."Hits".id');
    await apply(a, schemaStatements(changes));
    expect(compareSchemas(await readCatalog(a), after)).toEqual([]);
    // Enum labels appended in place.
    await b.query(`ALTER TYPE "Reporting".level ADD VALUE 'c'; ALTER TYPE "Reporting".level ADD VALUE '0' BEFORE 'a'`);
    const appended = compareSchemas(after, await readCatalog(b));
    expect(schemaStatements(appended)).toEqual([
      `ALTER TYPE "Reporting".level ADD VALUE '0' BEFORE 'a'`,
      `ALTER TYPE "Reporting".level ADD VALUE 'c' AFTER 'b'`,
    ]);
    await apply(a, schemaStatements(appended));
    expect(compareSchemas(await readCatalog(a), await readCatalog(b))).toEqual([]);
  });
});
