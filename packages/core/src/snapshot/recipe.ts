import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';

/** What a snapshot is made from. Everything but `name` is optional. */
export interface SnapshotRecipe {
  /** Human name, shown in progress, errors and `pgbranch ls`. */
  name: string;
  /**
   * SQL files, or directories whose `*.sql` files run in lexical order. Each file runs in its own
   * transaction, unless its first line is `-- pgbranch: no-transaction`.
   */
  sql?: string[];
  /** Runs after the SQL files with the seeding server's URL: any migration tool (Prisma, Drizzle, knex…). */
  init?: (url: string) => Promise<void> | void;
  /** Files or directories whose contents feed the hash (what `init` reads, e.g. `prisma/migrations`). */
  hashInputs?: string[];
  /** Relative paths resolve from here. @default process.cwd() */
  baseDir?: string;
}

/** A recipe file resolved on disk. */
export interface RecipeFile {
  path: string;
  /** Shown in messages: relative to the base directory. */
  display: string;
}

/** Expands `sql` entries into the ordered list of files to run. */
export async function resolveSqlFiles(recipe: SnapshotRecipe): Promise<RecipeFile[]> {
  const base = recipe.baseDir ?? process.cwd();
  const files: RecipeFile[] = [];
  for (const entry of recipe.sql ?? []) {
    const full = path.resolve(base, entry);
    const st = await stat(full).catch(() => undefined);
    if (!st) throw new UsageError(`Snapshot "${recipe.name}": SQL path ${entry} does not exist (resolved to ${full}).`);
    const found = st.isDirectory() ? await sqlFilesIn(full) : [full];
    if (st.isDirectory() && found.length === 0) {
      throw new UsageError(`Snapshot "${recipe.name}": directory ${entry} has no .sql files.`);
    }
    for (const f of found) files.push({ path: f, display: path.relative(base, f) || f });
  }
  return files;
}

async function sqlFilesIn(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sqlFilesIn(full)));
    else if (e.name.endsWith('.sql')) out.push(full);
  }
  return out;
}

/**
 * The content hash that names a snapshot: parent (which covers binaries and initdb settings),
 * data-affecting settings, the SQL files' names, contents and order, hashInputs contents, and
 * the init function's own source (see initSource).
 */
export async function recipeHash(parts: {
  parentHash: string;
  settings: Record<string, string>;
  files: RecipeFile[];
  hashInputs: string[];
  baseDir: string;
  /** `initSource(recipe.init)`, or undefined without init. */
  initSource?: string;
}): Promise<string> {
  const h = createHash('sha256');
  // format 2: snapshots end with VACUUM (FREEZE, ANALYZE) (see apply-recipe.ts). Without init, `init: false`
  // keeps the hashes recipes had before init's source was hashed.
  h.update(JSON.stringify({ format: 2, parent: parts.parentHash, settings: sorted(parts.settings), init: parts.initSource ?? false }));
  for (const f of parts.files) h.update(`\nsql:${path.basename(f.path)}:`).update(await readFile(f.path));
  for (const input of parts.hashInputs) {
    const full = path.resolve(parts.baseDir, input);
    await hashTree(h, full, input);
  }
  return h.digest('hex').slice(0, 24);
}

/**
 * What of `init` goes into the hash: its own source text (`Function.prototype.toString()`), so editing its body
 * reseeds. Not what it calls or reads: a migrations directory, a schema file or an imported helper must be
 * listed in `hashInputs`. (A bound function's text is the same for all of them; pass the function itself.)
 */
export function initSource(init: NonNullable<SnapshotRecipe['init']>): string {
  return Function.prototype.toString.call(init);
}

let initNoticeShown = false;

/**
 * Once per process, on stderr: a recipe with `init` and no `hashInputs` is cached by init's own source only.
 * Giving `hashInputs` (even `[]` when init reads no files) says the inputs were thought of and silences it.
 */
export function noticeInitHashing(recipe: Pick<SnapshotRecipe, 'name' | 'init' | 'hashInputs'>, write = (line: string) => void process.stderr.write(line)): void {
  if (!recipe.init || recipe.hashInputs !== undefined || initNoticeShown) return;
  initNoticeShown = true;
  write(
    `pgbranch: snapshot "${recipe.name}": only the source of its init function is hashed, not the files it reads; ` +
      'list them (e.g. your migrations directory) in hashInputs so that changing them reseeds the snapshot (hashInputs: [] if there are none).\n',
  );
}

/** Hash of the base cluster: binaries' identity, initdb arguments and data-affecting settings. */
export function baseHash(identity: string, initdbArgs: string[], settings: Record<string, string>): string {
  return createHash('sha256')
    .update(JSON.stringify({ format: 1, identity, initdbArgs, settings: sorted(settings) }))
    .digest('hex')
    .slice(0, 24);
}

async function hashTree(h: ReturnType<typeof createHash>, full: string, display: string): Promise<void> {
  const st = await stat(full).catch(() => undefined);
  if (!st) throw new UsageError(`hashInputs entry ${display} does not exist (resolved to ${full}).`);
  if (st.isFile()) {
    h.update(`\ninput:${display}:`).update(await readFile(full));
    return;
  }
  const entries = (await readdir(full)).sort();
  for (const name of entries) {
    if (name === 'node_modules' || name === '.git') continue;
    await hashTree(h, path.join(full, name), `${display}/${name}`);
  }
}

function sorted(o: Record<string, string>): Array<[string, string]> {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1));
}
