import path from 'node:path';
import { parseTtl } from '../cache/named-record.js';
import type { Branch } from '../branch/branch.js';
import type { NamedBranches } from './named-branches.js';

/** A branch kept running after a failure, for a person to inspect: a named branch (`branch` is its name). */
export interface KeptBranch {
  reason: string;
  branch: string;
  port: number;
  /** Unix socket directory (local servers): connect without the password. */
  socketDir?: string;
  /** URL without the password (the password is in the named branch's `password` file). */
  redactedUrl: string;
  /** When `pgbranch gc` (or the keeper) removes it; absent with `PGBRANCH_KEPT_TTL=never`. */
  expiresAt?: string;
  /** The cache directory holding the named branch (for `pgbranch … --cache-dir`). */
  cacheDir?: string;
  /** How long turning the branch into a named branch took. */
  keptMs?: number;
}

/** Turns a failed file's branch (detached from its pool, server running) into a named branch, planned as below. */
export async function keepAsNamed(named: NamedBranches, branch: Branch, reason: string, cacheDir: string): Promise<KeptBranch> {
  const plan = planKeptBranch(reason, branch.id);
  const t0 = performance.now();
  const info = await named.adopt(plan.name, branch, { labels: plan.labels, ttlMs: plan.ttlMs });
  const url = new URL(named.url(info));
  url.password = '';
  return {
    reason,
    branch: info.name,
    port: info.port,
    socketDir: named.socketDir(info.name),
    redactedUrl: url.toString(),
    expiresAt: info.expiresAt,
    cacheDir,
    keptMs: performance.now() - t0,
  };
}

/** How long a branch kept after a failed test lives unless `PGBRANCH_KEPT_TTL` says otherwise: 24 hours. */
export const DEFAULT_KEPT_TTL_MS = 24 * 3_600_000;

/** What a branch kept after a failure becomes: a named branch's name, labels and TTL. */
export interface KeptBranchPlan {
  name: string;
  labels: Record<string, string>;
  ttlMs: number | undefined;
}

/**
 * Names a failed test file's branch `failed-<file stem>-<id>` (a valid branch name whatever the file is called),
 * labels it with the runner and the file relative to the working directory, and gives it the kept-branch TTL
 * (`PGBRANCH_KEPT_TTL`: a duration such as `3d`, or `never`; 24 hours by default).
 * `reason` is what the runner sent: the test file's path, optionally followed by ` > test name`.
 */
export function planKeptBranch(reason: string, id: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): KeptBranchPlan {
  const file = reason.split(' > ')[0]!.trim();
  const base = path.basename(file);
  const stem = (/^(.+?)\.(test|spec)\./i.exec(base)?.[1] ?? base.replace(/\.[^.]*$/, ''))
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // accents off: "Ü" → "u"
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  const suffix = id.slice(0, 6);
  const name = `failed-${stem.slice(0, 63 - 'failed-'.length - suffix.length - 1) || 'file'}-${suffix}`.replace(/-+/g, '-');
  const relative = path.isAbsolute(file) ? path.relative(cwd, file) : file;
  const ttl = env.PGBRANCH_KEPT_TTL;
  return {
    name,
    labels: { kept: runnerName(), file: relative || file },
    ttlMs: ttl === undefined || ttl === '' ? DEFAULT_KEPT_TTL_MS : parseTtl(ttl, 'PGBRANCH_KEPT_TTL'),
  };
}

/** The test runner this process is (its entry script), for the `kept` label. */
function runnerName(): string {
  const entry = process.argv[1] ?? '';
  return /vitest/.test(entry) ? 'vitest' : /jest/.test(entry) ? 'jest' : 'pool-server';
}
