import { randomBytes } from 'node:crypto';
import type { NamedBranchMeta } from '../cache/named-record.js';
import { socketConnection, type ClientSettings } from '../drivers/address.js';
import { withClients } from '../diff/connect.js';
import { compareSides, describeDiff, diffDatabases } from '../diff/diff.js';
import { relativeChanges } from '../diff/relative.js';
import { compareSchemas } from '../diff/schema/compare.js';
import { describeSchemaConflict } from '../diff/schema/describe.js';
import { applyMergePlan } from '../diff/merge/index.js';
import type { DatabaseDiff, DiffOptions, MergePlan, MergeStrategy, RowConflict, SchemaChange, SchemaConflict } from '../diff/types.js';
import { MergeConflictError, UsageError } from '../errors.js';
import type { StoredSnapshot } from '../snapshot/stored-snapshot.js';
import { ancestorsOf, commonAncestor } from './lineage.js';
import { planThreeWay, unchanged } from './merge-plan.js';
import type { NamedContext } from './named-servers.js';

export type { MergeStrategy };

export interface MergeOptions {
  /** How to settle rows and schema objects changed differently on both sides: keep the target's, or take the source's. */
  strategy?: MergeStrategy;
  /** Plan only: nothing changes. */
  dryRun?: boolean;
}

export interface MergeResult {
  /** 'fast-forward': the target took the source's state; 'three-way': changes applied; 'up-to-date': nothing to do. */
  kind: 'fast-forward' | 'three-way' | 'up-to-date';
  source: string;
  target: string;
  /** The common ancestor compared with: `snapshot NAME (hash)`. */
  base: string;
  /** False for a dry run. */
  applied: boolean;
  /** Schema changes brought into the target (three-way). */
  schema: SchemaChange[];
  /** Rows written per table (three-way). */
  tables: { table: string; inserted: number; updated: number; deleted: number }[];
  /** Listed even when a strategy settled them. */
  conflicts: { rows: RowConflict[]; schema: SchemaConflict[] };
  /** What a three-way merge runs on the target (DDL, row operations, sequences). */
  plan?: MergePlan;
}

/** What diff and merge need from NamedBranches (each called outside any branch lock unless said). */
export interface NamedAccess {
  ctx: NamedContext;
  /** The branch's record, started first when it is suspended. */
  running(name: string): Promise<NamedBranchMeta>;
  /** Every named branch's record. */
  records(): Promise<NamedBranchMeta[]>;
  /** pgbranch's own connection settings for a running branch. */
  probe(meta: NamedBranchMeta): ClientSettings;
  locked<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** The password a stored snapshot's data carries when not the cache directory's (a snapshot frozen of a named branch). */
  snapshotPassword(hash: string): Promise<string | undefined>;
  /**
   * Replaces `target`'s data with `source`'s current state (under both branches' locks, taken by the caller), unless
   * the target's transaction snapshot is no longer `snapshot` (it was written to since it was compared).
   */
  fastForward(target: string, source: string, snapshot: string): Promise<void>;
}

function label(snap: StoredSnapshot): string {
  return snap.kind === 'recipe' ? `snapshot ${snap.name} (${snap.hash.slice(0, 12)})` : `snapshot ${snap.name}`;
}

/** Runs `fn` against a short-lived server on a clone of `snap` (the common ancestor a diff compares with). */
async function withBase<T>(access: NamedAccess, snap: StoredSnapshot, fn: (base: ClientSettings) => Promise<T>): Promise<T> {
  const id = randomBytes(4).toString('hex');
  const password = await access.snapshotPassword(snap.hash);
  const runtime = await access.ctx.driver.startBranch(snap, { id, name: `diff-base-${id}`, password });
  try {
    return await fn(socketConnection(runtime.address()));
  } finally {
    await runtime.destroy();
  }
}

/**
 * What `name` changed since its snapshot, or, with `other`, from `other` to `name`: `other` is another named branch
 * (both compared with their newest common snapshot) or a stored snapshot `name` descends from.
 */
export async function diffNamed(access: NamedAccess, name: string, other: string | StoredSnapshot | undefined, options: DiffOptions): Promise<DatabaseDiff> {
  const head = await access.running(name);
  if (other === undefined || typeof other !== 'string') {
    const all = await access.records();
    const base = other ?? (await access.ctx.driver.findSnapshot(head.snapshot.hash));
    if (!base) throw new UsageError(`Branch "${name}": its snapshot ${head.snapshot.name} (${head.snapshot.hash.slice(0, 12)}) is no longer in the cache; compare it with another branch instead.`);
    if (other && !(await ancestorsOf(access.ctx.driver, head, all)).some((s) => s.hash === other.hash)) {
      throw new UsageError(`Branch "${name}" does not descend from ${label(other)}: compare it with its own snapshot (${head.snapshot.name}) or with a branch.`);
    }
    return withBase(access, base, (b) => withClients([b, access.probe(head)], ([bc, hc]) => diffDatabases({ client: bc!, label: label(base) }, { client: hc!, label: `branch ${name}` }, options)));
  }
  const from = await access.running(other);
  const ancestor = await commonAncestor(access.ctx.driver, head, from, await access.records());
  return withBase(access, ancestor, (b) =>
    withClients([b, b, access.probe(from), access.probe(head)], async ([b1, b2, oc, hc]) => {
      const started = performance.now();
      const base = { lsns: new Map() };
      const [toOther, toHead] = await Promise.all([compareSides(b1!, oc!, base), compareSides(b2!, hc!, base)]);
      const stats = { ...toHead.stats, pagesRead: toHead.stats.pagesRead + toOther.stats.pagesRead, pagesChanged: toHead.stats.pagesChanged + toOther.stats.pagesChanged, rowVersions: toHead.stats.rowVersions + toOther.stats.rowVersions, durationMs: Math.round(performance.now() - started) };
      return describeDiff({ base: `branch ${other}`, head: `branch ${name}` }, compareSchemas(toOther.head, toHead.head), relativeChanges(toOther.tables, toHead.tables), stats, options);
    }),
  );
}

/**
 * Brings `source`'s changes into `target`. Fast-forward when the target changed nothing since their common ancestor
 * (the target takes the source's state: a copy-on-write clone, its URL unchanged); else a three-way merge applied in
 * one transaction on the target (a merge that fails or is killed leaves it as it was). Conflicts without a strategy
 * throw MergeConflictError and nothing is applied.
 */
export async function mergeNamed(access: NamedAccess, source: string, target: string, options: MergeOptions): Promise<MergeResult> {
  if (source === target) throw new UsageError(`Cannot merge branch "${source}" into itself.`);
  await access.running(source);
  await access.running(target);
  // Both branches' locks, always in name order: merges A→B and B→A at once wait for each other instead of deadlocking.
  const [first, second] = [source, target].sort();
  return access.locked(first!, () => access.locked(second!, async () => {
    const all = await access.records();
    const s = all.find((m) => m.name === source);
    const t = all.find((m) => m.name === target);
    if (!s || !t) throw new UsageError(`Branch "${!s ? source : target}" disappeared during the merge.`);
    const ancestor = await commonAncestor(access.ctx.driver, t, s, all);
    let snapshot = '';
    const result: MergeResult = { kind: 'up-to-date', source, target, base: label(ancestor), applied: false, schema: [], tables: [], conflicts: { rows: [], schema: [] } };
    const decided = await withBase(access, ancestor, (b) =>
      withClients([b, b, access.probe(t), access.probe(s)], async ([b1, b2, tc, sc]) => {
        const base = { lsns: new Map() };
        const [ours, theirs] = await Promise.all([compareSides(b1!, tc!, base), compareSides(b2!, sc!, base)]);
        if (unchanged(theirs)) return 'up-to-date' as const;
        if (unchanged(ours)) {
          snapshot = ours.headSnapshot;
          return 'fast-forward' as const;
        }
        const planned = await planThreeWay(ours, theirs, sc!, options.strategy);
        Object.assign(result, { kind: 'three-way', schema: planned.schema, tables: planned.tables, conflicts: planned.conflicts, plan: planned.plan });
        const count = planned.conflicts.rows.length + planned.conflicts.schema.length;
        if (count > 0 && !options.strategy && !options.dryRun) throw conflictError(source, target, planned.conflicts);
        if (!options.dryRun) {
          await applyMergePlan(tc!, planned.plan);
          result.applied = true;
        }
        return 'three-way' as const;
      }),
    );
    result.kind = decided;
    if (decided === 'fast-forward' && !options.dryRun) {
      await access.fastForward(target, source, snapshot);
      result.applied = true;
    }
    return result;
  }));
}

/** What each side did to a conflicting row: `updated on main, deleted on feature`. */
export function conflictSides(c: RowConflict, target: string, source: string): string {
  const did = (row: string | null): string => (row === null ? 'deleted' : c.base === null ? 'inserted' : 'updated');
  return `${did(c.ours)} on ${target}, ${did(c.theirs)} on ${source}`;
}

function conflictError(source: string, target: string, conflicts: MergeResult['conflicts']): MergeConflictError {
  const shown = [
    ...conflicts.schema.slice(0, 5).map((c) => `  schema: ${describeSchemaConflict(c)}`),
    ...conflicts.rows.slice(0, 10).map((c) => `  ${c.table} ${c.key}: ${conflictSides(c, target, source)}`),
  ];
  const total = conflicts.rows.length + conflicts.schema.length;
  const more = total > shown.length ? `\n  … and ${total - shown.length} more` : '';
  return new MergeConflictError(
    `Merging "${source}" into "${target}": ${total} conflict${total === 1 ? '' : 's'} (changed differently on both branches); nothing was applied.\n${shown.join('\n')}${more}\n` +
      `Settle them on one branch and merge again, or pass --strategy ours (keep ${target}'s) or --strategy theirs (take ${source}'s). --dry-run --json lists them all with base/ours/theirs values.`,
    conflicts,
  );
}
