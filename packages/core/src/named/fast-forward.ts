import type { NamedBranchMeta } from '../cache/named-record.js';
import type { StoredSnapshot } from '../snapshot/stored-snapshot.js';
import { writeParentPassword } from './branch-credentials.js';
import type { NamedRecords } from './named-records.js';
import type { NamedServers } from './named-servers.js';

/**
 * Gives `meta`'s branch the data of `frozen` (the source branch's state, frozen for this): stopped, recorded as
 * `resetting` onto the new snapshot before any data changes (a crash from there on is finished by the next resume,
 * as an interrupted reset is), recloned, started on its port with its own password. The data carries the source's
 * password (`carried`) until then. `stillUnchanged` runs right before the target stops and throws when it was written
 * to since the merge compared it. Returns the snapshot hash the branch used before, for the caller to drop.
 * Called under the branch's lock.
 */
export async function fastForward(records: NamedRecords, servers: NamedServers, meta: NamedBranchMeta, frozen: StoredSnapshot, source: string, carried: string, stillUnchanged: () => Promise<void>): Promise<string> {
  const previous = meta.snapshot.hash;
  const server = await servers.runtime.live(meta);
  await stillUnchanged(); // the last moment a write to the target could be lost; it throws when there was one
  if (server) await servers.runtime.stop(meta, server, 'fast');
  await writeParentPassword(records.dir(meta.name), carried);
  delete meta.server;
  delete meta.credentials;
  delete meta.ownSnapshot;
  meta.snapshot = { hash: frozen.hash, name: frozen.name };
  meta.fromBranch = source;
  meta.dataSince = new Date().toISOString();
  meta.state = 'resetting';
  await records.write(meta);
  await servers.reclone(meta, frozen);
  await servers.start(meta, frozen, 'fast-forwarded');
  meta.state = 'running';
  meta.lastUsedAt = new Date().toISOString();
  await records.write(meta);
  return previous;
}
