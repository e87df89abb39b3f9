import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, realpath, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CacheDirError, describeCause } from '../errors.js';
import { exec } from './exec.js';
import { resolveRunAs, type RunAs } from './run-as.js';

/** Marks the accounts pgbranch made (the GECOS field), so only those are ever reused or removed. */
export const ACCOUNT_COMMENT = 'pgbranch server account';
const NOLOGIN = ['/usr/sbin/nologin', '/sbin/nologin', '/bin/false'].find((p) => existsSync(p)) ?? '/bin/false';

interface AccountRecord {
  user: string;
  uid: number;
  gid: number;
}

/**
 * Who runs this cache directory's servers. Not root: the current user. Root with `user` or PGBRANCH_RUN_AS:
 * that user (explicit override). Root otherwise: a system account of this cache directory alone,
 * `pgb-<8 hex of sha256(real path)>` (no home, nologin shell, its home field naming the cache directory),
 * made once with useradd and recorded in `<cache>/server-account.json`; its uid is verified on reuse.
 * Servers of different cache directories therefore never share an OS account, with each other or with other
 * software (as they did with `nobody`).
 */
export async function serverAccount(cacheDir: string, recordFile: string, user?: string | number): Promise<RunAs> {
  const override = user ?? process.env.PGBRANCH_RUN_AS;
  if (process.getuid?.() !== 0 || override !== undefined) return resolveRunAs(override);
  const real = await realpath(cacheDir);
  const name = accountName(real);
  const recorded = await readRecord(recordFile);
  let entry = findAccount(name);
  if (entry && (entry.home !== real || entry.comment !== ACCOUNT_COMMENT)) {
    throw new CacheDirError(
      `The account "${name}" for the servers of ${real} exists but was not made by pgbranch for this directory ` +
        `(home ${entry.home}, comment "${entry.comment}"). Remove it (userdel ${name}) or set PGBRANCH_RUN_AS.`,
    );
  }
  // Accounts of removed cache directories are not cleaned up here (another run may be between wiping its cache
  // directory and making it again): `pgbranch gc --accounts` does it.
  if (!entry) entry = await createAccount(name, real);
  const account: AccountRecord = { user: entry.user, uid: entry.uid, gid: entry.gid };
  if (!recorded || recorded.uid !== account.uid || recorded.gid !== account.gid) {
    // A new account for a cache that has data already (made before per-cache accounts, restored from another
    // machine, or its account was removed): its servers' files are handed over to the new account once.
    await handOver(real, recorded, account);
    const tmp = `${recordFile}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(account) + '\n', { mode: 0o644 });
    await rename(tmp, recordFile);
  }
  return { ...account, dropped: true };
}

/** `pgb-` and 8 hex digits of the cache directory's real path: stable, short and within useradd's 32 characters. */
export function accountName(realCacheDir: string): string {
  return `pgb-${createHash('sha256').update(realCacheDir).digest('hex').slice(0, 8)}`;
}

/**
 * Removes the accounts pgbranch made whose cache directory no longer exists. userdel refuses an account that
 * still has processes, so a server still running from a removed directory keeps its account.
 * Returns the names removed.
 */
export async function removeOrphanAccounts(): Promise<string[]> {
  const removed: string[] = [];
  for (const entry of passwdEntries()) {
    if (!entry.user.startsWith('pgb-') || entry.comment !== ACCOUNT_COMMENT || existsSync(entry.home)) continue;
    try {
      await exec('userdel', [entry.user], { timeoutMs: 30_000 });
      removed.push(entry.user);
    } catch {
      // Still in use, or removed by another process meanwhile.
    }
  }
  return removed;
}

async function createAccount(name: string, home: string): Promise<PasswdEntry> {
  if (/[:\n]/.test(home)) {
    throw new CacheDirError(`The cache directory ${JSON.stringify(home)} cannot be recorded in an account (":" or newline in its path); use another path or set PGBRANCH_RUN_AS.`);
  }
  try {
    await exec('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', home, '--shell', NOLOGIN, '--comment', ACCOUNT_COMMENT, name], { timeoutMs: 30_000 });
  } catch (err) {
    const raced = findAccount(name); // another process made it at the same moment
    if (raced?.home === home && raced.comment === ACCOUNT_COMMENT) return raced;
    throw new CacheDirError(
      `Running as root, pgbranch runs the servers of ${home} as their own system account "${name}", but could not create it: ${describeCause(err)}. ` +
        'Install useradd (package passwd/shadow), or set PGBRANCH_RUN_AS to an unprivileged user dedicated to pgbranch.',
      { cause: err },
    );
  }
  const made = findAccount(name);
  if (!made) throw new CacheDirError(`useradd reported success but the account "${name}" is not in /etc/passwd; set PGBRANCH_RUN_AS instead.`);
  return made;
}

/**
 * Hands the servers' files to the new account: everything under the cache's data directories that belongs to the
 * previous account — the recorded one, or else `nobody` (the account servers ran as before each cache directory
 * had its own). Other owners are left alone: Docker bind storage keeps its image user's files in the same places.
 * `chown -R -P --from` walks without following symlinks (a server could have planted some).
 */
async function handOver(cacheDir: string, previous: AccountRecord | undefined, account: AccountRecord): Promise<void> {
  const tops = ['snapshots', 'named', 'branches'].map((d) => path.join(cacheDir, d)).filter((d) => existsSync(d));
  const from = previous?.uid ?? passwdEntries().find((e) => e.user === 'nobody')?.uid;
  if (tops.length === 0 || from === undefined || from === account.uid || from === 0) return;
  await exec('chown', ['-R', '-P', '--from', String(from), `${account.uid}:${account.gid}`, ...tops], { timeoutMs: 600_000 }).catch((err: unknown) => {
    throw new CacheDirError(`Could not hand the data in ${cacheDir} over to the account "${account.user}": ${describeCause(err)}. Run \`pgbranch gc\` or remove the cache directory.`, { cause: err });
  });
}

async function readRecord(file: string): Promise<AccountRecord | undefined> {
  try {
    const record = JSON.parse(await readFile(file, 'utf8')) as AccountRecord;
    return Number.isInteger(record.uid) && Number.isInteger(record.gid) ? record : undefined;
  } catch {
    return undefined;
  }
}

interface PasswdEntry {
  user: string;
  uid: number;
  gid: number;
  comment: string;
  home: string;
}

function passwdEntries(): PasswdEntry[] {
  let text = '';
  try {
    text = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter(Boolean).map((line) => {
    const [user = '', , uid, gid, comment = '', home = ''] = line.split(':');
    return { user, uid: Number(uid), gid: Number(gid), comment, home };
  });
}

function findAccount(name: string): PasswdEntry | undefined {
  return passwdEntries().find((e) => e.user === name);
}

/**
 * Who would run the servers of `cacheDir`, in words, without creating anything (for `pgbranch doctor`):
 * the override, the current user, or the cache directory's own account (existing or to be made).
 */
export async function describeServerAccount(cacheDir: string, user?: string | number): Promise<string> {
  const override = user ?? process.env.PGBRANCH_RUN_AS;
  if (process.getuid?.() !== 0 || override !== undefined) {
    const runAs = resolveRunAs(override);
    return runAs.dropped ? `${runAs.user} (uid ${runAs.uid}, set by postgres.user/PGBRANCH_RUN_AS); this process is root` : runAs.user;
  }
  const real = await realpath(cacheDir).catch(() => path.resolve(cacheDir));
  const name = accountName(real);
  const entry = findAccount(name);
  return entry ? `${name} (uid ${entry.uid}), this cache directory's own account; this process is root` : `${name}, this cache directory's own account (made on first use with useradd); this process is root`;
}
