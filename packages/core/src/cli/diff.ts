import { formatDiff } from '../diff/format.js';
import { describeSchemaConflict } from '../diff/schema/describe.js';
import { REDACTED, redactor } from '../diff/rows/row-view.js';
import type { RowConflict } from '../diff/types.js';
import { MergeConflictError, UsageError } from '../errors.js';
import { conflictSides, type MergeResult, type MergeStrategy } from '../named/named-branches.js';
import { withNamed, type CliContext } from './branches.js';

/** `pgbranch diff NAME [OTHER] [--rows N] [--json]`: what NAME changed since its snapshot, or from OTHER to NAME. */
export async function runDiff(cli: CliContext, name: string | undefined, other: string | undefined, rows: number | undefined): Promise<number> {
  if (!name) throw new UsageError('Usage: pgbranch diff NAME [OTHER] [--rows N] [--json] (OTHER: another branch, or a snapshot NAME descends from).');
  return withNamed(cli, async (named, engine) => {
    let against: string | Awaited<ReturnType<typeof engine.storedSnapshot>> = other;
    if (other && !(await named.list()).some((b) => b.name === other)) {
      against = await engine.storedSnapshot(other);
      if (!against) throw new UsageError(`"${other}" is neither a named branch nor a stored snapshot (see \`pgbranch ls\`).`);
    }
    const diff = await named.diff(name, against, { rows: rows ?? (cli.json ? 100 : 10) });
    cli.out(cli.json ? JSON.stringify(diff) : formatDiff(diff, { color: process.stdout.isTTY === true && !process.env.NO_COLOR }).trimEnd());
    return 0;
  }, name);
}

/** `pgbranch merge SOURCE --into TARGET [--strategy ours|theirs] [--dry-run] [--json]`. Exit 1 on conflicts. */
export async function runMerge(cli: CliContext, source: string | undefined, target: string | undefined, strategy: string | undefined, dryRun: boolean): Promise<number> {
  if (!source || !target) throw new UsageError('Usage: pgbranch merge SOURCE --into TARGET [--strategy ours|theirs] [--dry-run] [--json]');
  if (strategy !== undefined && strategy !== 'ours' && strategy !== 'theirs') throw new UsageError(`--strategy is "ours" (keep ${target}'s) or "theirs" (take ${source}'s), not "${strategy}".`);
  return withNamed(cli, async (named) => {
    try {
      const result = await named.merge(source, target, { strategy: strategy as MergeStrategy | undefined, dryRun });
      if (cli.json) cli.out(JSON.stringify(result));
      else for (const line of describeMerge(result, dryRun)) cli.out(line);
      return dryRun && result.conflicts.rows.length + result.conflicts.schema.length > 0 && !strategy ? 1 : 0;
    } catch (err) {
      if (!(err instanceof MergeConflictError)) throw err;
      if (cli.json) cli.out(JSON.stringify({ error: { code: err.code, message: err.message }, conflicts: err.conflicts }));
      else process.stderr.write(`pgbranch: ${err.message}\n`);
      return 1;
    }
  }, target);
}

/** One row conflict in a line: what each side did, and the columns on which they differ (ours → theirs). */
export function conflictText(c: RowConflict, target: string, source: string): string {
  const sides = conflictSides(c, target, source);
  if (c.ours === null || c.theirs === null) return sides;
  const ours = JSON.parse(c.ours) as Record<string, unknown>;
  const theirs = JSON.parse(c.theirs) as Record<string, unknown>;
  const cols = [...new Set([...Object.keys(ours), ...Object.keys(theirs)])].filter((k) => JSON.stringify(ours[k]) !== JSON.stringify(theirs[k]));
  const secret = redactor(c.table, undefined);
  const shown = cols.slice(0, 4).map((k) => (secret(k) ? `${k} ${REDACTED} vs ${REDACTED}` : `${k} ${short(ours[k])} vs ${short(theirs[k])}`));
  return `${sides}: ${shown.join(', ')}${cols.length > 4 ? `, +${cols.length - 4} more columns` : ''}`;
}

function short(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

/** The lines `pgbranch merge` prints. */
export function describeMerge(r: MergeResult, dryRun: boolean): string[] {
  const would = dryRun ? 'would ' : '';
  if (r.kind === 'up-to-date') return [`${r.target} already has every change of ${r.source} (since ${r.base}); nothing to merge.`];
  if (r.kind === 'fast-forward') return [`${r.target} ${dryRun ? 'would be' : 'was'} fast-forwarded to ${r.source}'s state (${r.target} had not changed since ${r.base}; its URL stays the same).`];
  const lines = [`Three-way merge of ${r.source} into ${r.target} (common ancestor: ${r.base})${dryRun ? ', dry run' : ''}:`];
  const ddl = r.plan ? [...(r.plan.schemaFirst ?? []), ...r.plan.schema, ...(r.plan.schemaAfterRows ?? [])] : [];
  for (const s of ddl) lines.push(`  ${would}run: ${s.length > 160 ? `${s.slice(0, 157)}…` : s}`);
  for (const t of r.tables) lines.push(`  ${t.table.replace(/^public\./, '')}: ${would}insert ${t.inserted}, update ${t.updated}, delete ${t.deleted}`);
  const conflicts = r.conflicts.rows.length + r.conflicts.schema.length;
  if (conflicts > 0) {
    lines.push(`  ${conflicts} conflict${conflicts === 1 ? '' : 's'}${r.plan && !dryRun ? ' settled by the strategy' : ''}:`);
    for (const c of r.conflicts.schema.slice(0, 10)) lines.push(`    schema: ${describeSchemaConflict(c)}`);
    for (const c of r.conflicts.rows.slice(0, 20)) lines.push(`    ${c.table.replace(/^public\./, '')} ${c.key}: ${conflictText(c, r.target, r.source)}`);
    if (conflicts > 30) lines.push(`    … and ${conflicts - 30} more (--json lists them all)`);
  }
  if (r.plan && ddl.length === 0 && r.tables.length === 0) lines.push('  no changes to apply (the same changes are on both sides)');
  if (!dryRun) lines.push(`${r.target} merged in one transaction.`);
  return lines;
}
