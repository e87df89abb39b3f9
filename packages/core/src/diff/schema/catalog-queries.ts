/**
 * The catalog queries behind readCatalog: one round trip of a few statements, run with an empty search_path so that
 * every name the pg_get_*def functions print is schema-qualified (the same text on any clone, and statements that
 * run under any search_path).
 */

/** Schemas that hold no user objects. */
const userSchema = (nsp: string) =>
  `${nsp}.nspname NOT IN ('pg_catalog', 'information_schema') AND ${nsp}.nspname NOT LIKE 'pg\\_toast%' AND ${nsp}.nspname NOT LIKE 'pg\\_temp%'`;

/** Not a member of an extension (those come and go with their extension). */
const notInExtension = (catalog: string, oid: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '${catalog}'::regclass AND e.objid = ${oid} AND e.deptype = 'e')`;

/** A table or materialized view of the user's (the relations whose columns, indexes and triggers are read). */
const userRelation = (c: string, n: string) => `${userSchema(n)} AND ${notInExtension('pg_class', `${c}.oid`)}`;

export interface ExtensionRow { name: string; version: string; schema: string }
export interface SchemaRow { name: string }
export interface TypeRow {
  schema: string; name: string; typtype: 'e' | 'd' | 'c';
  labels: string[] | null; base: string | null; not_null: boolean; default: string | null; collation: string | null;
  checks: string[] | null; attributes: string[] | null;
}
export interface SequenceRow {
  schema: string; name: string; type: string; start: string; increment: string; min: string; max: string; cache: string;
  cycle: boolean; unlogged: boolean; owner_schema: string | null; owner_table: string | null; owner_column: string | null;
}
export interface TableRow {
  schema: string; name: string; unlogged: boolean; partition_key: string | null;
  parent_schema: string | null; parent_name: string | null; bound: string | null;
}
export interface ColumnRow {
  schema: string; table: string; name: string; position: number; type: string; not_null: boolean; default: string | null;
  identity: '' | 'a' | 'd'; generated: '' | 's' | 'v'; collation: string | null; local: boolean;
  /** The value rows that predate the column read from the catalog (ADD COLUMN … DEFAULT without a rewrite), as text. */
  missing: string | null;
}
export interface ConstraintRow {
  schema: string; table: string; name: string; type: 'p' | 'u' | 'c' | 'f' | 'x'; definition: string;
  ref_schema: string | null; ref_table: string | null;
}
export interface IndexRow { schema: string; name: string; table: string; definition: string; on_view: boolean }
export interface FunctionRow { schema: string; name: string; kind: 'f' | 'p' | 'w'; arguments: string; definition: string }
export interface ViewRow {
  schema: string; name: string; materialized: boolean; definition: string; options: string[] | null; depends: string[] | null;
}
export interface TriggerRow { schema: string; table: string; name: string; definition: string }

/** The rows of one catalog read, in the order of CATALOG_SQL's statements. */
export interface CatalogRows {
  extensions: ExtensionRow[];
  schemas: SchemaRow[];
  types: TypeRow[];
  sequences: SequenceRow[];
  tables: TableRow[];
  columns: ColumnRow[];
  constraints: ConstraintRow[];
  indexes: IndexRow[];
  functions: FunctionRow[];
  views: ViewRow[];
  triggers: TriggerRow[];
}

export const CATALOG_PARTS = ['extensions', 'schemas', 'types', 'sequences', 'tables', 'columns', 'constraints', 'indexes', 'functions', 'views', 'triggers'] as const;

const QUERIES: Record<(typeof CATALOG_PARTS)[number], string> = {
  extensions: `SELECT x.extname AS name, x.extversion AS version, n.nspname AS schema
    FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace`,

  schemas: `SELECT n.nspname AS name FROM pg_namespace n WHERE ${userSchema('n')} AND ${notInExtension('pg_namespace', 'n.oid')}`,

  types: `SELECT n.nspname AS schema, t.typname AS name, t.typtype,
      CASE WHEN t.typtype = 'e' THEN (SELECT array_agg(l.enumlabel::text ORDER BY l.enumsortorder) FROM pg_enum l WHERE l.enumtypid = t.oid) END AS labels,
      CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS base,
      t.typnotnull AS not_null, pg_get_expr(t.typdefaultbin, 0) AS default,
      CASE WHEN t.typtype = 'd' AND t.typcollation <> bt.typcollation THEN (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname)
        FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = t.typcollation) END AS collation,
      (SELECT array_agg(format('CONSTRAINT %I %s', k.conname, pg_get_constraintdef(k.oid)) ORDER BY k.conname)
        FROM pg_constraint k WHERE k.contypid = t.oid AND k.contype = 'c') AS checks,
      CASE WHEN t.typtype = 'c' THEN (SELECT array_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)) ORDER BY a.attnum)
        FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) END AS attributes
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
    WHERE (t.typtype IN ('e', 'd') OR (t.typtype = 'c' AND (SELECT r.relkind FROM pg_class r WHERE r.oid = t.typrelid) = 'c'))
      AND ${userSchema('n')} AND ${notInExtension('pg_type', 't.oid')}`,

  sequences: `SELECT n.nspname AS schema, c.relname AS name, format_type(s.seqtypid, NULL) AS type, s.seqstart AS start,
      s.seqincrement AS increment, s.seqmin AS min, s.seqmax AS max, s.seqcache AS cache, s.seqcycle AS cycle,
      c.relpersistence = 'u' AS unlogged, tn.nspname AS owner_schema, tc.relname AS owner_table, ta.attname AS owner_column
    FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
      LEFT JOIN pg_class tc ON tc.oid = d.refobjid LEFT JOIN pg_namespace tn ON tn.oid = tc.relnamespace
      LEFT JOIN pg_attribute ta ON ta.attrelid = d.refobjid AND ta.attnum = d.refobjsubid
    WHERE d.deptype IS DISTINCT FROM 'i' AND ${userRelation('c', 'n')}`,

  tables: `SELECT n.nspname AS schema, c.relname AS name, c.relpersistence = 'u' AS unlogged,
      CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,
      pn.nspname AS parent_schema, pc.relname AS parent_name,
      CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS bound
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_inherits i ON c.relispartition AND i.inhrelid = c.oid
      LEFT JOIN pg_class pc ON pc.oid = i.inhparent LEFT JOIN pg_namespace pn ON pn.oid = pc.relnamespace
    WHERE c.relkind IN ('r', 'p') AND ${userRelation('c', 'n')}`,

  columns: `SELECT n.nspname AS schema, c.relname AS table, a.attname AS name, a.attnum AS position,
      format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default,
      a.attidentity AS identity, a.attgenerated AS generated, a.attislocal AS local,
      CASE WHEN a.atthasmissing THEN (a.attmissingval::text::text[])[1] END AS missing,
      CASE WHEN a.attcollation <> t.typcollation THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END AS collation
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      LEFT JOIN pg_collation co ON co.oid = a.attcollation LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
    WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND ${userRelation('c', 'n')}
    ORDER BY a.attrelid, a.attnum`,

  constraints: `SELECT n.nspname AS schema, c.relname AS table, k.conname AS name, k.contype AS type,
      pg_get_constraintdef(k.oid) AS definition, rn.nspname AS ref_schema, rc.relname AS ref_table
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_class rc ON rc.oid = k.confrelid LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
    WHERE k.contype IN ('p', 'u', 'c', 'f', 'x') AND k.conislocal AND k.conparentid = 0 AND ${userRelation('c', 'n')}`,

  indexes: `SELECT n.nspname AS schema, ic.relname AS name, c.relname AS table, pg_get_indexdef(x.indexrelid) AS definition,
      c.relkind = 'm' AS on_view
    FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'm') AND ${userRelation('c', 'n')}
      AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.conrelid = x.indrelid AND k.contype IN ('p', 'u', 'x'))
      AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = x.indexrelid)`,

  functions: `SELECT n.nspname AS schema, p.proname AS name, p.prokind AS kind, oidvectortypes(p.proargtypes) AS arguments,
      pg_get_functiondef(p.oid) AS definition
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE p.prokind IN ('f', 'p', 'w') AND ${userSchema('n')} AND ${notInExtension('pg_proc', 'p.oid')}`,

  views: `SELECT n.nspname AS schema, c.relname AS name, c.relkind = 'm' AS materialized, pg_get_viewdef(c.oid) AS definition,
      c.reloptions AS options,
      (SELECT array_agg(DISTINCT dep) FROM (
        SELECT CASE WHEN rc.relkind IN ('v', 'm') THEN 'view:' ELSE 'table:' END || rn.nspname || '.' || rc.relname AS dep
          FROM pg_rewrite r JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass
          JOIN pg_class rc ON rc.oid = d.refobjid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
          WHERE r.ev_class = c.oid AND rc.oid <> c.oid
        UNION
        SELECT 'function:' || pn.nspname || '.' || pp.proname || '(' || oidvectortypes(pp.proargtypes) || ')'
          FROM pg_rewrite r JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_proc'::regclass
          JOIN pg_proc pp ON pp.oid = d.refobjid JOIN pg_namespace pn ON pn.oid = pp.pronamespace
          WHERE r.ev_class = c.oid AND ${userSchema('pn')}) deps) AS depends
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('v', 'm') AND ${userRelation('c', 'n')}`,

  triggers: `SELECT n.nspname AS schema, c.relname AS table, t.tgname AS name, pg_get_triggerdef(t.oid) AS definition
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND ${userRelation('c', 'n')}`,
};

/**
 * The whole read as one simple-protocol query string: save search_path, empty it, run every query, restore it.
 * Its results are [save, empty, ...CATALOG_PARTS, restore]. set_config(…, true) keeps the change local to the
 * transaction, and the restore puts back the caller's value when the caller is inside a transaction of its own.
 */
export const CATALOG_SQL = [
  "SELECT set_config('pgbranch.saved_search_path', current_setting('search_path'), true)",
  "SELECT set_config('search_path', '', true)",
  ...CATALOG_PARTS.map((part) => QUERIES[part]),
  "SELECT set_config('search_path', current_setting('pgbranch.saved_search_path'), true)",
].join(';\n');
