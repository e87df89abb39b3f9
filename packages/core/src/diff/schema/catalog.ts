import type pg from 'pg';
import type { SchemaObject, SchemaObjectKind } from '../types.js';
import { CATALOG_PARTS, CATALOG_SQL, type CatalogRows, type ColumnRow, type SequenceRow, type TableRow, type TypeRow } from './catalog-queries.js';
import { qualify, quoteIdent, quoteLiteral } from './quote.js';

/** The key of an object in a catalog map: `kind:id`. */
export const objectKey = (kind: SchemaObjectKind, id: string): string => `${kind}:${id}`;

/**
 * The user schema of the connected database, by `kind:id`: everything outside pg_catalog, information_schema and the
 * toast and temporary schemas that no extension owns. One round trip; definitions hold no OIDs, so two clones of
 * one database give equal maps. The client's search_path is left as it was.
 */
export async function readCatalog(client: pg.ClientBase): Promise<Map<string, SchemaObject>> {
  const results = (await client.query(CATALOG_SQL)) as unknown as pg.QueryResult[];
  const rows = Object.fromEntries(CATALOG_PARTS.map((part, i) => [part, results[i + 2]!.rows])) as unknown as CatalogRows;
  const objects = catalogObjects(rows);
  return new Map(objects.map((o) => [objectKey(o.kind, o.id), o]));
}

/** The schema objects of one catalog read. */
export function catalogObjects(rows: CatalogRows): SchemaObject[] {
  const out: SchemaObject[] = [];
  for (const x of rows.extensions) {
    out.push({
      kind: 'extension', id: x.name, definition: `version ${x.version} schema ${x.schema}`, sqlName: quoteIdent(x.name),
      create: `CREATE EXTENSION IF NOT EXISTS ${quoteIdent(x.name)} WITH SCHEMA ${quoteIdent(x.schema)} VERSION ${quoteLiteral(x.version)}`,
      drop: `DROP EXTENSION ${quoteIdent(x.name)}`,
      update: `ALTER EXTENSION ${quoteIdent(x.name)} UPDATE TO ${quoteLiteral(x.version)}`,
    });
  }
  for (const s of rows.schemas) {
    const name = quoteIdent(s.name);
    out.push({ kind: 'schema', id: s.name, definition: 'schema', sqlName: name, create: `CREATE SCHEMA ${name}`, drop: `DROP SCHEMA ${name}` });
  }
  for (const t of rows.types) out.push(typeObject(t));
  for (const s of rows.sequences) out.push(sequenceObject(s));
  const columns = new Map<string, ColumnRow[]>();
  for (const c of rows.columns) {
    const list = columns.get(`${c.schema}.${c.table}`);
    if (list) list.push(c);
    else columns.set(`${c.schema}.${c.table}`, [c]);
  }
  for (const t of rows.tables) out.push(tableObject(t, columns.get(`${t.schema}.${t.name}`) ?? []));
  for (const c of rows.columns) out.push(columnObject(c));
  for (const k of rows.constraints) {
    const table = qualify(k.schema, k.table);
    out.push({
      kind: 'constraint', id: `${k.schema}.${k.table}.${k.name}`, table: `${k.schema}.${k.table}`, definition: k.definition,
      sqlName: quoteIdent(k.name),
      create: `ALTER TABLE ${table} ADD CONSTRAINT ${quoteIdent(k.name)} ${k.definition}`,
      drop: `ALTER TABLE ${table} DROP CONSTRAINT ${quoteIdent(k.name)}`,
      ...(k.ref_schema && k.ref_table ? { dependsOn: [objectKey('table', `${k.ref_schema}.${k.ref_table}`)] } : {}),
    });
  }
  for (const i of rows.indexes) {
    out.push({
      kind: 'index', id: `${i.schema}.${i.name}`, table: `${i.schema}.${i.table}`, definition: i.definition,
      sqlName: qualify(i.schema, i.name), create: i.definition, drop: `DROP INDEX ${qualify(i.schema, i.name)}`,
      ...(i.on_view ? { dependsOn: [objectKey('view', `${i.schema}.${i.table}`)] } : {}),
    });
  }
  for (const f of rows.functions) {
    const name = `${qualify(f.schema, f.name)}(${f.arguments})`;
    out.push({
      kind: 'function', id: `${f.schema}.${f.name}(${f.arguments})`, definition: f.definition.trim(), sqlName: name,
      create: f.definition.trim(), drop: `DROP ${f.kind === 'p' ? 'PROCEDURE' : 'FUNCTION'} ${name}`,
    });
  }
  for (const v of rows.views) {
    const name = qualify(v.schema, v.name);
    const kind = v.materialized ? 'MATERIALIZED VIEW' : 'VIEW';
    const body = v.definition.trim().replace(/;$/, '');
    const options = v.options?.length ? ` WITH (${[...v.options].sort().join(', ')})` : '';
    out.push({
      kind: 'view', id: `${v.schema}.${v.name}`, definition: `${kind.toLowerCase()}${options}: ${body}`, sqlName: name,
      create: `CREATE ${v.materialized ? '' : 'OR REPLACE '}${kind} ${name}${options} AS\n${body}`,
      drop: `DROP ${kind} ${name}`, dependsOn: [...(v.depends ?? [])].sort(),
    });
  }
  for (const t of rows.triggers) {
    out.push({
      kind: 'trigger', id: `${t.schema}.${t.table}.${t.name}`, table: `${t.schema}.${t.table}`, definition: t.definition,
      sqlName: quoteIdent(t.name), create: t.definition,
      drop: `DROP TRIGGER ${quoteIdent(t.name)} ON ${qualify(t.schema, t.table)}`,
    });
  }
  return out;
}

function typeObject(t: TypeRow): SchemaObject {
  const name = qualify(t.schema, t.name);
  const base = { kind: 'type' as const, id: `${t.schema}.${t.name}`, sqlName: name, drop: `DROP ${t.typtype === 'd' ? 'DOMAIN' : 'TYPE'} ${name}` };
  if (t.typtype === 'e') {
    const labels = t.labels ?? [];
    const list = labels.map(quoteLiteral).join(', ');
    return { ...base, definition: `enum (${list})`, labels, create: `CREATE TYPE ${name} AS ENUM (${list})` };
  }
  if (t.typtype === 'c') {
    const attributes = (t.attributes ?? []).join(', ');
    return { ...base, definition: `composite (${attributes})`, create: `CREATE TYPE ${name} AS (${attributes})` };
  }
  const parts = [
    t.base ?? '',
    t.collation ? `COLLATE ${t.collation}` : '',
    t.default !== null ? `DEFAULT ${t.default}` : '',
    t.not_null ? 'NOT NULL' : '',
    ...(t.checks ?? []),
  ].filter(Boolean);
  return { ...base, definition: `domain ${parts.join(' ')}`, create: `CREATE DOMAIN ${name} AS ${parts.join(' ')}` };
}

function sequenceObject(s: SequenceRow): SchemaObject {
  const name = qualify(s.schema, s.name);
  const params = `AS ${s.type} INCREMENT BY ${s.increment} MINVALUE ${s.min} MAXVALUE ${s.max} START WITH ${s.start} CACHE ${s.cache} ${s.cycle ? '' : 'NO '}CYCLE`;
  const owned = s.owner_schema && s.owner_table && s.owner_column;
  return {
    kind: 'sequence', id: `${s.schema}.${s.name}`, sqlName: name,
    definition: `${s.unlogged ? 'unlogged ' : ''}${params}${owned ? ` owned by ${s.owner_schema}.${s.owner_table}.${s.owner_column}` : ''}`,
    create: `CREATE ${s.unlogged ? 'UNLOGGED ' : ''}SEQUENCE ${name} ${params}`,
    drop: `DROP SEQUENCE ${name}`,
    update: `ALTER SEQUENCE ${name} ${params}${owned ? '' : ' OWNED BY NONE'}`,
    ...(owned
      ? {
          table: `${s.owner_schema}.${s.owner_table}`,
          attach: `ALTER SEQUENCE ${name} OWNED BY ${qualify(s.owner_schema!, s.owner_table!)}.${quoteIdent(s.owner_column!)}`,
        }
      : {}),
  };
}

function tableObject(t: TableRow, columns: ColumnRow[]): SchemaObject {
  const name = qualify(t.schema, t.name);
  const persistence = t.unlogged ? 'UNLOGGED ' : '';
  let definition = t.unlogged ? 'unlogged' : 'permanent';
  let create: string;
  if (t.parent_schema && t.parent_name) {
    definition += ` partition of ${t.parent_schema}.${t.parent_name} ${t.bound}`;
    create = `CREATE ${persistence}TABLE ${name} PARTITION OF ${qualify(t.parent_schema, t.parent_name)} ${t.bound}`;
  } else {
    const list = columns.map((c) => `    ${quoteIdent(c.name)} ${columnDefinition(c)}`).join(',\n');
    create = `CREATE ${persistence}TABLE ${name} (${list ? `\n${list}\n` : ''})`;
  }
  if (t.partition_key) {
    definition += ` partition by ${t.partition_key}`;
    create += ` PARTITION BY ${t.partition_key}`;
  }
  const dependsOn = t.parent_schema ? [objectKey('table', `${t.parent_schema}.${t.parent_name}`)] : undefined;
  return { kind: 'table', id: `${t.schema}.${t.name}`, definition, sqlName: name, create, drop: `DROP TABLE ${name}`, ...(dependsOn ? { dependsOn } : {}) };
}

/** A column as ADD COLUMN and CREATE TABLE spell it (after its name). */
function columnDefinition(c: ColumnRow): string {
  return [
    c.type,
    c.collation ? `COLLATE ${c.collation}` : '',
    c.identity ? `GENERATED ${c.identity === 'a' ? 'ALWAYS' : 'BY DEFAULT'} AS IDENTITY` : '',
    c.generated ? `GENERATED ALWAYS AS (${c.default}) ${c.generated === 's' ? 'STORED' : 'VIRTUAL'}` : '',
    c.default !== null && !c.generated ? `DEFAULT ${c.default}` : '',
    c.not_null ? 'NOT NULL' : '',
  ].filter(Boolean).join(' ');
}

/**
 * ADD COLUMN as the source ran it: a column added with a default that its rows still read from the catalog (the
 * default may have been dropped or changed since, as migration tools do for NOT NULL columns) is added with that
 * value as its default first, so that the target's existing rows get the value the source's rows have.
 */
function addColumn(table: string, name: string, c: ColumnRow, definition: string): string {
  const add = `ALTER TABLE ${table} ADD COLUMN ${name} ${definition}`;
  if (c.missing === null || c.identity || c.generated) return add;
  const withMissing = columnDefinition({ ...c, default: `${quoteLiteral(c.missing)}::${c.type}` });
  const after = c.default === null ? 'DROP DEFAULT' : `SET DEFAULT ${c.default}`;
  return `ALTER TABLE ${table} ADD COLUMN ${name} ${withMissing};\nALTER TABLE ${table} ALTER COLUMN ${name} ${after}`;
}

function columnObject(c: ColumnRow): SchemaObject {
  const table = qualify(c.schema, c.table);
  const name = quoteIdent(c.name);
  const definition = columnDefinition(c);
  return {
    kind: 'column', id: `${c.schema}.${c.table}.${c.name}`, table: `${c.schema}.${c.table}`, definition, sqlName: name,
    create: addColumn(table, name, c, definition),
    drop: `ALTER TABLE ${table} DROP COLUMN ${name}`,
    column: {
      table, type: c.type, notNull: c.not_null, position: c.position,
      ...(c.collation ? { collation: c.collation } : {}),
      ...(c.default !== null && !c.generated ? { default: c.default } : {}),
      ...(c.identity ? { identity: c.identity === 'a' ? ('always' as const) : ('by default' as const) } : {}),
      ...(c.generated && c.default !== null ? { generated: { expression: c.default, stored: c.generated === 's' } } : {}),
    },
  };
}
