import { stat } from 'node:fs/promises';
import type { NamedBranchMeta } from '../cache/named-record.js';
import { isAlive } from '../system/proc.js';
import { clientConnections } from './activity.js';
import type { NamedRecords } from './named-records.js';
import type { NamedServers } from './named-servers.js';

export type NamedBranchState = 'running' | 'idle' | 'suspended' | 'creating' | 'broken';

/** A named branch as listed: its record plus what is true right now. */
export interface NamedBranchInfo extends Omit<NamedBranchMeta, 'state' | 'server' | 'creator' | 'version'> {
  state: NamedBranchState;
  /** The host its URL connects to (127.0.0.1, or where a remote Docker engine publishes ports). */
  host?: string;
  /** Client connections right now (running branches). */
  connections?: number;
  /** Server process id while running (drivers with a process per branch). */
  pid?: number;
  /** Why a branch is broken, or that a running branch's server stopped unexpectedly. */
  problem?: string;
  expired: boolean;
  dir: string;
}

/**
 * A branch's record and state right now; undefined when there is no such directory. Counting connections
 * (`activity`) costs a connection of its own: skipped right after create/resume/reset, when the state is known.
 */
export async function describeBranch(
  records: NamedRecords,
  servers: NamedServers,
  name: string,
  options: { activity: boolean; idleAfterMs: number },
): Promise<NamedBranchInfo | undefined> {
  const dir = records.dir(name);
  const meta = await records.read(name);
  if (!meta) {
    if (!(await stat(dir).catch(() => undefined))) return undefined;
    return brokenInfo(name, dir, 'no branch record (creation was interrupted); `pgbranch rm` or `pgbranch gc` removes it');
  }
  const { version: _v, server: _s, creator, state: recorded, ...rest } = meta;
  const base = { ...rest, dir, host: servers.runtime.address(meta, '').host, expired: meta.expiresAt !== undefined && Date.parse(meta.expiresAt) <= Date.now() };
  if (recorded === 'removing') return { ...base, state: 'broken', problem: 'its removal was interrupted; `pgbranch rm` or `pgbranch gc` finishes it' };
  if (recorded === 'creating') {
    const alive = creator && isAlive(creator.pid, creator.startTime);
    return alive ? { ...base, state: 'creating' } : { ...base, state: 'broken', problem: 'creation was interrupted; `pgbranch rm` or `pgbranch gc` removes it' };
  }
  const server = await servers.runtime.live(meta);
  if (!server) {
    const problem =
      recorded === 'running' ? 'its server stopped unexpectedly; `pgbranch resume` recovers it'
      : recorded === 'resetting' ? 'a reset was interrupted; `pgbranch resume` or `pgbranch reset` finishes it'
      : undefined;
    return { ...base, state: 'suspended', problem };
  }
  const connections = options.activity ? await clientConnections(servers.probe(meta)).catch(() => undefined) : undefined;
  const lastUsed = connections ? Date.now() : Date.parse(meta.lastUsedAt);
  const idle = !connections && Date.now() - lastUsed >= options.idleAfterMs;
  return { ...base, state: idle ? 'idle' : 'running', connections, pid: server.pid || undefined };
}

function brokenInfo(name: string, dir: string, problem: string): NamedBranchInfo {
  const epoch = new Date(0).toISOString();
  return { name, snapshot: { hash: '', name: '' }, createdAt: epoch, lastUsedAt: epoch, labels: {}, port: 0, state: 'broken', problem, expired: false, dir };
}
