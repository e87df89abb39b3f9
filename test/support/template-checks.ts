import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { BranchResources, DriverChecks } from './driver-checks.js';
import { localChecks } from './local-checks.js';
import { postgresProcessesUnder } from './processes.js';

/** psql from the distribution's client package (`.ci/run` installs it). */
export const PSQL = '/usr/lib/postgresql/15/bin/psql';

/**
 * The template driver: branches are databases in a template server per snapshot (a postgres process in a
 * directory filed under its engine's owner record). A branch's "server" is its database accepting connections and
 * its "storage" the database itself, asked of the template server over its unix socket (root: peer authentication).
 * Snapshots of branches are template databases named `snapshot_<parent>-<branch>-<random>`.
 */
export const templateChecks: DriverChecks = {
  leftovers: (cacheDir) => localChecks.leftovers(cacheDir),
  runningServers: (branch) => {
    const allowed = databaseRow(branch, 'select datallowconn from pg_database where datname = $$DB$$');
    return allowed === 't' ? [`database ${branch.database} accepting connections`] : [];
  },
  storage: (branch) => {
    if (!hostRuns(branch.dir)) return branch.dir && existsSync(branch.dir) ? [`dir ${branch.dir}`] : [];
    return databaseRow(branch, 'select 1 from pg_database where datname = $$DB$$') === '1' ? [`database ${branch.database}`] : [];
  },
  branchSnapshots: (cacheDir, session) => {
    const root = path.join(cacheDir, 'branches');
    const sessions = session ? [session] : existsSync(root) ? readdirSync(root) : [];
    const found: string[] = [];
    for (const s of sessions) {
      const dir = path.join(root, s);
      for (const host of existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('tpl-')) : []) {
        const names = query(path.join(dir, host), "select datname from pg_database where datname like 'snapshot\\_%-%'");
        found.push(...(names ?? '').split('\n').filter(Boolean).map((n) => `template database ${n}`));
      }
    }
    return found;
  },
  serverUid: (branch) => localChecks.serverUid(branch),
};

/** True while a postmaster runs in the template server's directory. */
function hostRuns(dir: string | undefined): boolean {
  return dir !== undefined && postgresProcessesUnder(dir).length > 0;
}

function databaseRow(branch: BranchResources, sql: string): string | undefined {
  if (!branch.database || !hostRuns(branch.dir)) return undefined;
  return query(branch.dir!, sql.replace('DB', branch.database));
}

/** One query to the template server in `dir` over its socket (port and socket directory from postmaster.pid). */
function query(dir: string, sql: string): string | undefined {
  let lines: string[];
  try {
    lines = readFileSync(path.join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return undefined; // not running
  }
  const [port, socketDir] = [lines[3]!.trim(), lines[4]!.trim()];
  const run = spawnSync(PSQL, ['-w', '-X', '-At', '-h', socketDir, '-p', port, '-U', 'postgres', '-d', 'template1', '-c', sql], { encoding: 'utf8' });
  return run.status === 0 ? run.stdout.trim() : undefined;
}
