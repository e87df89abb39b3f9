import { readFileSync } from 'node:fs';
import { chown, lchown, stat } from 'node:fs/promises';
import path from 'node:path';
import { CacheDirError } from '../errors.js';

/** The user the Postgres servers run as. Postgres refuses root, so root hands servers to an unprivileged user. */
export interface RunAs {
  uid: number;
  gid: number;
  user: string;
  /** True when the engine runs as root and drops privileges for the servers. */
  dropped: boolean;
}

/**
 * Resolves who runs the servers. Not root: the current user. Root: `user` (name or uid),
 * else env PGBRANCH_RUN_AS, else `nobody`.
 */
export function resolveRunAs(user?: string | number): RunAs {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  if (uid !== 0) return { uid, gid, user: process.env.USER ?? String(uid), dropped: false };
  const wanted = user ?? process.env.PGBRANCH_RUN_AS ?? 'nobody';
  const entry = lookupUser(wanted);
  if (!entry || entry.uid === 0) {
    throw new CacheDirError(
      `Running as root, pgbranch starts Postgres as an unprivileged user, but user "${wanted}" ` +
        'was not found (or is root). Set PGBRANCH_RUN_AS to an existing unprivileged user name or uid.',
    );
  }
  return { ...entry, dropped: true };
}

function lookupUser(wanted: string | number): Omit<RunAs, 'dropped'> | undefined {
  let passwd = '';
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    // No passwd file (minimal container): a numeric uid still works.
  }
  for (const line of passwd.split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name === String(wanted) || uid === String(wanted)) return { user: name!, uid: Number(uid), gid: Number(gid) };
  }
  if (/^\d+$/.test(String(wanted))) return { user: String(wanted), uid: Number(wanted), gid: Number(wanted) };
  return undefined;
}

/** Gives a path to the server user (no-op when privileges are not dropped). */
export async function giveTo(runAs: RunAs, target: string): Promise<void> {
  if (runAs.dropped) await chown(target, runAs.uid, runAs.gid);
}

/** Like giveTo, for a symlink itself. */
export async function giveLinkTo(runAs: RunAs, target: string): Promise<void> {
  if (runAs.dropped) await lchown(target, runAs.uid, runAs.gid);
}

/**
 * Checks that the server user can walk down to `dir` (each ancestor searchable), so that a
 * permissions problem is reported up front with the fix, not as a cryptic server log line.
 */
export async function assertReachable(runAs: RunAs, dir: string, what: string): Promise<void> {
  if (!runAs.dropped) return;
  let current = path.resolve(dir);
  const blocked: string[] = [];
  for (;;) {
    const st = await stat(current).catch(() => undefined);
    if (st) {
      const canSearch =
        st.uid === runAs.uid ? (st.mode & 0o100) !== 0 : st.gid === runAs.gid ? (st.mode & 0o010) !== 0 : (st.mode & 0o001) !== 0;
      if (!canSearch) blocked.push(current);
    }
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  if (blocked.length > 0) {
    throw new CacheDirError(
      `Postgres runs as user "${runAs.user}" (uid ${runAs.uid}) because this process is root, but it cannot reach the ${what} ` +
        `${dir}: no search permission on ${blocked.reverse().join(', ')}. ` +
        `Fix: chmod o+x ${blocked[0]}, or set PGBRANCH_CACHE_DIR to a directory it can reach (e.g. under /tmp), or set PGBRANCH_RUN_AS.`,
    );
  }
}
