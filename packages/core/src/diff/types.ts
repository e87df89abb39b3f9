/**
 * What a diff between two states of one database says, and what a merge plans. Row values travel as the text of
 * `to_jsonb(row)` (jsonb's text form is canonical: equal rows give equal text), keys as the jsonb text of the key
 * columns (`{"id": 5}`), so nothing is lost between servers and no value is parsed to compare it.
 */

/** `schema.name` of a table as Postgres spells the parts (unquoted), e.g. `public.accounts`, `relay.requests`. */
export type TableName = string;

/** Kinds of schema objects a diff compares. */
export type SchemaObjectKind = 'extension' | 'schema' | 'type' | 'sequence' | 'table' | 'column' | 'constraint' | 'index' | 'function' | 'view' | 'trigger';

/** One schema object as read from a catalog: compared by `definition`, created/dropped by the statements. */
export interface SchemaObject {
  kind: SchemaObjectKind;
  /** Unique within its kind: `public.accounts` (table), `public.accounts.email` (column), `public.f(integer)` (function)… */
  id: string;
  /** The table it belongs to (columns, constraints, indexes, triggers). */
  table?: TableName;
  /** Normalised definition: two objects with the same id and definition are the same. */
  definition: string;
  /** How SQL names it, quoted: `"public"."accounts"` (schema-qualified); columns: the column alone, `"email"`. */
  sqlName?: string;
  /** The statement that creates it, with every name schema-qualified (read with an empty search_path). */
  create?: string;
  /** The statement that drops it. */
  drop?: string;
  /**
   * A statement that turns any other version of the object into this one without dropping it, where one exists
   * (extensions: ALTER EXTENSION … UPDATE TO; sequences: ALTER SEQUENCE with every parameter).
   */
  update?: string;
  /** A statement that runs once tables and columns exist: a serial sequence's `ALTER SEQUENCE … OWNED BY`. */
  attach?: string;
  /** Keys (`kind:id`) of the objects it reads, for ordering: a view's tables, views and functions. */
  dependsOn?: string[];
  /** Enum types: the labels, in order. */
  labels?: string[];
  /** Columns: the parts ALTER COLUMN changes one by one. */
  column?: SchemaColumn;
  /**
   * Set on the `after` of an added table (and the `before` of a dropped one) by compareSchemas and mergeSchemas:
   * the objects that come and go with the table (columns, constraints, indexes, triggers, owned sequences), which
   * the change list leaves out.
   */
  parts?: SchemaObject[];
}

/** A column as ALTER TABLE … ALTER COLUMN sees it. */
export interface SchemaColumn {
  /** The table, quoted and schema-qualified. */
  table: string;
  /** format_type of the column's type. */
  type: string;
  /** A non-default collation, quoted and qualified. */
  collation?: string;
  notNull: boolean;
  default?: string;
  identity?: 'always' | 'by default';
  /** A generated column's expression and whether it is stored or virtual. */
  generated?: { expression: string; stored: boolean };
  /** Its attribute number: kept by a rename, new for a column dropped and added again (not compared). */
  position?: number;
}

export interface SchemaChange {
  change: 'added' | 'dropped' | 'changed';
  kind: SchemaObjectKind;
  id: string;
  /** The object before (dropped, changed) and after (added, changed). */
  before?: SchemaObject;
  after?: SchemaObject;
}

/** A changed row as a diff shows it (values redacted where configured). */
export interface RowChangeView {
  change: 'inserted' | 'updated' | 'deleted';
  /** The key columns' values (tables without a primary key: absent). */
  key?: Record<string, unknown>;
  before?: Record<string, unknown>;
  after?: Record<string, unknown>;
  /** Updated rows: the columns whose values differ. */
  columns?: string[];
}

export interface TableDiff {
  table: TableName;
  /** How rows are matched: by primary key, or (no primary key) by their whole content. */
  keyedBy: 'primary key' | 'whole row';
  /** The key columns (empty when keyed by whole row). */
  key: string[];
  inserted: number;
  updated: number;
  deleted: number;
  /** The first changed rows (DiffOptions.rows), inserted/updated/deleted in key order. */
  rows: RowChangeView[];
  /**
   * How the rows were found: 'changed pages' (only pages whose LSN moved since the common ancestor were read) or
   * 'whole table' (the table was rewritten, is unlogged, or is new on one side), with the reason.
   */
  compared: 'changed pages' | 'whole table';
  reason?: string;
}

export interface DiffStats {
  /** Tables whose pages were compared. */
  tables: number;
  /** Heap pages whose LSNs were compared, both sides counted (a base two comparisons share is read once). */
  pagesRead: number;
  /** Pages found changed (rows read from them). */
  pagesChanged: number;
  /** Rows whose version (ctid, xmin) was compared. */
  rowVersions: number;
  durationMs: number;
}

/** What changed from `base` to `head`. */
export interface DatabaseDiff {
  /** Names of the two sides, for people (`snapshot app (ab12cd34ef56)`, `branch feature`). */
  base: string;
  head: string;
  schema: SchemaChange[];
  /** Tables with row changes (unchanged tables are left out), by table name. */
  tables: TableDiff[];
  stats: DiffStats;
}

export interface DiffOptions {
  /** How many changed rows to show per table. @default 10 */
  rows?: number;
  /**
   * Columns whose values are shown as `[redacted]`: a column name (any table) or `table.column` / `schema.table.column`.
   * @default columns named like password, secret, token, api_key, *_hash
   */
  redact?: string[];
}

/** Row changes of one table between a common ancestor and one side, as a merge needs them. */
export interface TableChanges {
  table: TableName;
  keyedBy: 'primary key' | 'whole row';
  key: string[];
  /**
   * Primary key: key text → the row before (null: inserted) and after (null: deleted), as `to_jsonb` text.
   * Whole row: row text → how many copies were added (> 0) or removed (< 0); before/after unused.
   */
  changes: Map<string, { before: string | null; after: string | null }>;
  counts?: Map<string, number>;
  /** The table's columns in table order (head side), for showing rows. */
  columns?: string[];
}

/** One row changed differently on both sides of a merge. */
export interface RowConflict {
  table: TableName;
  /** Key text (`{"id": 5}`). */
  key: string;
  base: string | null;
  ours: string | null;
  theirs: string | null;
}

export interface SchemaConflict {
  kind: SchemaObjectKind;
  id: string;
  base?: SchemaObject;
  ours?: SchemaObject;
  theirs?: SchemaObject;
}

/** A row operation on the merge's target. */
export interface RowOp {
  op: 'insert' | 'update' | 'delete';
  /** Key text (primary-key tables); null for whole-row tables. */
  key: string | null;
  /** insert/update: the row to write; delete of a whole-row table: the row to remove one copy of. */
  row: string | null;
}

export interface TableOps {
  table: TableName;
  key: string[];
  ops: RowOp[];
}

/** How a merge settles conflicts: keep the target's side ('ours') or take the source's ('theirs'). */
export type MergeStrategy = 'ours' | 'theirs';

/** What a merge does to its target, in one transaction. */
export interface MergePlan {
  /** DDL run before the rows, in order (drops in reverse dependency order, then creates in dependency order). */
  schema: string[];
  /** Enum labels to add, committed before the merge's transaction (a label added in it could not be used by rows). */
  schemaFirst?: string[];
  /** DDL run after the rows: constraints, foreign keys, indexes, NOT NULL on existing columns, triggers. */
  schemaAfterRows?: string[];
  tables: TableOps[];
  /** Sequences to move forward to at least this value (setval to the greater of the target's and this). */
  sequences: { name: string; value: string }[];
}
