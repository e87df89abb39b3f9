import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ServerStartError, describeCause } from '../../errors.js';
import { spawnAs } from './spawn-as.js';
import type { PostgresBinaries } from './binaries.js';
import { scramVerifier } from '../../cache/scram-verifier.js';
import { INITDB_ARGS } from '../../snapshot/postgres-settings.js';
import { giveTo, type RunAs } from '../../system/run-as.js';

/**
 * Creates a new cluster in `dataDir` (an existing empty directory owned by the server user),
 * with `password` for the superuser over TCP. Its SCRAM verifier goes through a 0600 file, never argv (initdb
 * stores a verifier as it is: the password itself never reaches the server).
 */
export async function initCluster(bins: PostgresBinaries, dataDir: string, password: string, runAs: RunAs): Promise<void> {
  const pwfile = path.join(path.dirname(dataDir), `.pw-${path.basename(dataDir)}`);
  await writeFile(pwfile, scramVerifier(password) + '\n', { mode: 0o600 });
  try {
    await giveTo(runAs, pwfile);
    const result = await spawnAs(runAs, path.join(bins.binDir, 'initdb'), [
      '--pgdata', dataDir, '--pwfile', pwfile, '--no-sync', '--no-instructions', ...INITDB_ARGS,
    ], bins);
    if (result.code !== 0) {
      throw new ServerStartError(`initdb failed for ${dataDir} (exit ${result.code}): ${result.output.trim().split('\n').slice(-5).join(' | ')}`, result.output);
    }
  } catch (err) {
    if (err instanceof ServerStartError) throw err;
    throw new ServerStartError(`initdb could not run in ${dataDir}: ${describeCause(err)}`, '', { cause: err });
  } finally {
    await rm(pwfile, { force: true });
  }
}
