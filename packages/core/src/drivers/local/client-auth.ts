import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { privateDir } from '../../system/private-dir.js';
import { SUPERUSER } from '../../snapshot/postgres-settings.js';

/**
 * Who may connect to this cache's local servers, as `hba_file`/`ident_file` server settings (runtime only:
 * snapshots keep initdb's own files, which are never read).
 *
 * - TCP (127.0.0.1, ::1): the password (scram-sha-256), as in every branch URL.
 * - Unix socket, pgbranch running as root: only root (peer authentication mapped to the superuser). The
 *   servers' own account — which a branch superuser reaches through `COPY … FROM PROGRAM` — and everyone else
 *   are refused, with or without a password; root could read every password anyway, so letting it in costs
 *   nothing and keeps pgbranch's own socket connections (pool prewarm, seeding, activity checks) free of the
 *   SCRAM exchange.
 * - Unix socket, not root: trust. The socket directory is 0700 and the servers run as this very user, who owns
 *   the data directories and passwords already; peer would add nothing but a failure where the uid has no
 *   passwd entry (containers with arbitrary uids).
 */
export async function clientAuthSettings(authDir: string): Promise<Record<string, string>> {
  const root = process.getuid?.() === 0;
  const hba = [
    '# Written by pgbranch (see clientAuthSettings); changes are overwritten.',
    root ? 'local all all peer map=pgbranch' : 'local all all trust',
    'host all all 127.0.0.1/32 scram-sha-256',
    'host all all ::1/128 scram-sha-256',
    '',
  ].join('\n');
  const ident = ['# Written by pgbranch: root may connect over the unix socket as the superuser.', `pgbranch root ${SUPERUSER}`, ''].join('\n');
  await privateDir(authDir, 0o755);
  const hbaFile = await writeIfChanged(path.join(authDir, 'pg_hba.conf'), hba);
  const identFile = await writeIfChanged(path.join(authDir, 'pg_ident.conf'), ident);
  return { hba_file: hbaFile, ident_file: identFile };
}

/** Written beside and renamed into place, so a server starting meanwhile never reads half a file. */
async function writeIfChanged(file: string, content: string): Promise<string> {
  if ((await readFile(file, 'utf8').catch(() => undefined)) === content) return file;
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, content, { mode: 0o644 });
  await rename(tmp, file);
  return file;
}
