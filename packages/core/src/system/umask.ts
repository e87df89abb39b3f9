import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';

/** This process's umask, read without changing it (process.umask(mask) would, for every thread). Linux only. */
export function processUmask(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const m = /^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? parseInt(m[1]!, 8) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * As root, the servers run as another account, which must read and traverse what this process creates for them
 * (build directories, clones, socket directories). A umask that takes read or search from "others" (077, 027…)
 * makes every start fail deep inside initdb or postgres; say so at once instead.
 */
export function assertUmaskLetsServersIn(serverUser: string, umask = processUmask()): void {
  if (umask === undefined || (umask & 0o005) === 0) return;
  const shown = umask.toString(8).padStart(4, '0');
  throw new UsageError(
    `This process runs as root with umask ${shown}, so the Postgres servers (running as "${serverUser}") could not read ` +
      `the files pgbranch makes for them. Run it with umask 022 (e.g. \`umask 022\` in the CI step, or in the shell ` +
      'before the test command).',
  );
}
