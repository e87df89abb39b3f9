import { CopyCloner } from '../../cloners/copy-cloner.js';
import { selectCloner } from '../../cloners/select-cloner.js';
import { defaultSettings } from '../../snapshot/postgres-settings.js';
import { serverAccount } from '../../system/server-account.js';
import { assertReachable, resolveRunAs } from '../../system/run-as.js';
import { assertUmaskLetsServersIn } from '../../system/umask.js';
import type { LocalContext } from '../context.js';
import type { DriverInfo } from '../driver.js';
import type { DriverRequest } from '../driver-request.js';
import { findBinaries } from './binaries.js';
import { clientAuthSettings } from './client-auth.js';

/**
 * What every driver running servers from local binaries settles first: the binaries, the OS account servers run
 * as (this cache directory's own when root), a cloner for the cache directory and the server settings.
 * A 'read' engine starts no server: it makes no account and writes nothing. Without probing (only 'build'
 * engines clone: probes write to the cache directory), the copy cloner stands in.
 */
export async function setupLocalServers(request: DriverRequest): Promise<{ ctx: LocalContext; info: DriverInfo }> {
  const { layout, use } = request;
  const binaries = await findBinaries({ binDir: request.binDir, cacheDir: layout.root });
  const runAs = use === 'read' ? resolveRunAs(request.user) : await serverAccount(layout.root, layout.account, request.user);
  if (runAs.dropped && use !== 'read') assertUmaskLetsServersIn(runAs.user);
  await assertReachable(runAs, layout.root, 'cache directory');
  await assertReachable(runAs, binaries.binDir, 'Postgres binaries in');
  if (binaries.libraryDir) await assertReachable(runAs, binaries.libraryDir, 'Postgres library links in');
  const choice = use === 'build' ? await selectCloner(request.cloner, layout.root) : { cloner: new CopyCloner(), reason: 'not probed: this engine clones nothing', probes: [] };
  const auth = use === 'read' ? {} : await clientAuthSettings(layout.auth);
  const settings = { ...defaultSettings(binaries.major), ...request.settings, ...auth };
  const ctx: LocalContext = { layout, session: request.session, cloner: choice.cloner, binaries, runAs, settings, password: request.password };
  const info: DriverInfo = {
    storage: choice.cloner.name,
    storageReason: choice.reason,
    probes: choice.probes,
    postgresVersion: binaries.version,
    binDir: binaries.binDir,
    binariesFrom: binaries.source,
    serverUser: runAs.user,
  };
  return { ctx, info };
}
