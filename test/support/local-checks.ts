import { existsSync, readFileSync } from 'node:fs';
import type { DriverChecks } from './driver-checks.js';
import { branchSnapshotDirs } from './snapshot-dirs.js';
import { mountsUnder, postgresProcessesUnder, uidOf } from './processes.js';

/** The local driver: postgres processes, data directories and cloner mounts on this host. */
export const localChecks: DriverChecks = {
  leftovers: (cacheDir) => [...postgresProcessesUnder(cacheDir).map((pid) => `postgres pid ${pid}`), ...mountsUnder(cacheDir).map((m) => `mount ${m}`)],
  runningServers: ({ pid, dir }) => {
    // By data directory: pids are reused quickly (pid_max may be 32768), so a pid alone could be someone else's server.
    const pids = new Set(dir ? postmastersUnder(dir) : []);
    if (pid !== undefined && (dir ? unreapedChild(pid) : postgresProcessesUnder('/').includes(pid))) pids.add(pid);
    return [...pids].map((p) => `postgres pid ${p}`);
  },
  storage: ({ dir }) => (dir ? [...(existsSync(dir) ? [`dir ${dir}`] : []), ...mountsUnder(dir).map((m) => `mount ${m}`)] : []),
  branchSnapshots: (cacheDir, session) => branchSnapshotDirs(cacheDir, session).map((d) => `snapshot dir ${d}`),
  serverUid: ({ pid }) => (pid === undefined ? undefined : uidOf(pid)),
};

/**
 * Postgres servers (postmasters) whose command line names `dir`. A child the postmaster just forked carries the same
 * command line until it sets its own title, so processes whose parent is one of them are not counted twice.
 */
function postmastersUnder(dir: string): number[] {
  const pids = postgresProcessesUnder(dir);
  return pids.filter((pid) => {
    const parent = statOf(pid)?.parent;
    return parent !== undefined && !pids.includes(parent);
  });
}

/** A process's state letter and parent pid, or undefined once it is gone. */
function statOf(pid: number): { state: string; parent: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, parent] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: state!, parent: Number(parent) };
  } catch {
    return undefined;
  }
}

/** An exited child of this process that it has not waited for: a server the engine stopped but did not reap. */
function unreapedChild(pid: number): boolean {
  const stat = statOf(pid);
  return stat?.state === 'Z' && stat.parent === process.pid;
}
