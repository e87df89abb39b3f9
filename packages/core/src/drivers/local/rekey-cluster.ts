import { spawn } from 'node:child_process';
import path from 'node:path';
import { PgbranchError, describeCause } from '../../errors.js';
import { DATABASE } from '../../snapshot/postgres-settings.js';
import { rekeyFailure, rekeyStatement } from '../../cache/rekey-statement.js';
import type { RunAs } from '../../system/run-as.js';
import type { PostgresBinaries } from './binaries.js';
import { serverEnv } from './spawn-as.js';

/**
 * Sets the superuser password of a stopped cluster (an imported snapshot's data directory) to `password`, in
 * single-user mode as the server user: no server listens meanwhile, and it ends with a shutdown checkpoint, so
 * the data directory is cleanly shut down again afterwards.
 */
export async function rekeyCluster(bins: PostgresBinaries, dataDir: string, password: string, runAs: RunAs): Promise<void> {
  let output = '';
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(path.join(bins.binDir, 'postgres'), ['--single', '-D', dataDir, DATABASE], {
      ...(runAs.dropped ? { uid: runAs.uid, gid: runAs.gid } : {}),
      stdio: ['pipe', 'pipe', 'pipe'],
      env: serverEnv(bins),
    });
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.stdin.on('error', () => undefined); // a postgres that fails to start closes stdin early: its output says why
    child.once('error', reject);
    child.once('close', (c) => resolve(c ?? 1));
    child.stdin.end(rekeyStatement(password));
  }).catch((err: unknown) => {
    throw new PgbranchError('PGBRANCH_REKEY_FAILED', `Could not run postgres --single on ${dataDir}: ${describeCause(err)}.`, { cause: err });
  });
  const failure = rekeyFailure(output) ?? (code === 0 ? undefined : `exit ${code}: ${output.trim().split('\n').slice(-3).join(' | ')}`);
  if (failure) throw new PgbranchError('PGBRANCH_REKEY_FAILED', `Could not set this cache directory's password in the imported snapshot ${dataDir}: ${failure}`);
}
