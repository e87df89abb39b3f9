import { existsSync, readFileSync } from 'node:fs';
import type { DriverChecks } from './driver-checks.js';
import { branchSnapshotDirs } from './snapshot-dirs.js';
import { mountsUnder, postgresProcessesUnder, uidOf } from './processes.js';

/** The local driver: postgres processes, data directories and cloner mounts on this host. */
export const localChecks: DriverChecks = {
  leftovers: (cacheDir) => [...postgresProcessesUnder(cacheDir).map((pid) => `postgres pid ${pid}`), ...mountsUnder(cacheDir).map((m) => `mount ${m}`)],
  runningServers: ({ pid, dir }) => {
    // By data directory: pids are reused quickly (pid_max may be 32768), so a pid alone could be someone else's server.
    const pids = new Set(dir ? postgresProcessesUnder(dir) : []);
    if (pid !== undefined && (dir ? unreapedChild(pid) : postgresProcessesUnder('/').includes(pid))) pids.add(pid);
    return [...pids].map((p) => `postgres pid ${p}`);
  },
  storage: ({ dir }) => (dir ? [...(existsSync(dir) ? [`dir ${dir}`] : []), ...mountsUnder(dir).map((m) => `mount ${m}`)] : []),
  branchSnapshots: (cacheDir, session) => branchSnapshotDirs(cacheDir, session).map((d) => `snapshot dir ${d}`),
  serverUid: ({ pid }) => (pid === undefined ? undefined : uidOf(pid)),
};

/** An exited child of this process that it has not waited for: a server the engine stopped but did not reap. */
function unreapedChild(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, parent] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return state === 'Z' && Number(parent) === process.pid;
  } catch {
    return false;
  }
}
