import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Longest unix socket path: sun_path holds 108 bytes on Linux, 104 on macOS and the BSDs (one for the NUL). */
export const MAX_SOCKET_PATH = process.platform === 'linux' ? 107 : 103;
/** "/.s.PGSQL.65535" takes 16 bytes of a socket path. */
export const MAX_SOCKET_DIR = MAX_SOCKET_PATH - 16;
/** Longest entry name made in a run directory: `<session>-<id>`. */
const LONGEST_RUN_ENTRY = 32;

/** Where everything lives inside the cache directory. One place, so reaping and gc see what the engine made. */
export class CacheLayout {
  constructor(readonly root: string) {}

  get snapshots(): string {
    return path.join(this.root, 'snapshots');
  }
  snapshot(hash: string): string {
    return path.join(this.snapshots, hash);
  }
  /** Where a snapshot is built before it is renamed into place; named by its builder's session. */
  build(hash: string, session: string): string {
    return path.join(this.snapshots, `.build-${hash}-${session}`);
  }
  lock(hash: string): string {
    return path.join(this.root, 'locks', `${hash}.lock`);
  }
  get sessions(): string {
    return path.join(this.root, 'sessions');
  }
  session(id: string): string {
    return path.join(this.sessions, `${id}.json`);
  }
  get branchesRoot(): string {
    return path.join(this.root, 'branches');
  }
  branches(session: string): string {
    return path.join(this.branchesRoot, session);
  }
  branch(session: string, id: string): string {
    return path.join(this.branches(session), id);
  }
  /**
   * Where a session's pool server listens: beside its owner record when the path is short enough, else in the
   * session's private run directory (named in its owner record), never at a name others can predict in /tmp.
   */
  poolSocket(session: string): string {
    const inside = path.join(this.sessions, `${session}.sock`);
    if (inside.length <= MAX_SOCKET_PATH) return inside;
    const runDir = this.runDirOf(session);
    return runDir ? path.join(runDir, 'pool.sock') : inside; // no run directory: listening fails with a clear error
  }

  /** The run directory recorded in a session's owner record. */
  private runDirOf(session: string): string | undefined {
    try {
      return (JSON.parse(readFileSync(this.session(session), 'utf8')) as { runDir?: string }).runDir;
    } catch {
      return undefined;
    }
  }
  get secret(): string {
    return path.join(this.root, 'secret');
  }
  /** The cache directory's identity (see loadCacheId): what its containers and images are selected by. */
  get cacheId(): string {
    return path.join(this.root, 'cache-id');
  }
  /** The record of the OS account this cache directory's servers run as (when pgbranch runs as root). */
  get account(): string {
    return path.join(this.root, 'server-account.json');
  }
  /** pg_hba.conf / pg_ident.conf every local server of this cache uses (runtime settings, not in snapshots). */
  get auth(): string {
    return path.join(this.root, 'auth');
  }
  /**
   * This engine's short private directory for sockets whose path inside the cache would be too long: made by
   * mkdtemp in the temp directory (a name nobody can plant in advance), owned by this user, mode 0711, recorded
   * in the session's owner record and removed with the session (or by the reaper after a crash).
   */
  runDir: string | undefined;

  /** True when the run directory's path leaves room for every socket directory made in it. */
  static runDirFits(dir: string): boolean {
    return dir.length + 1 + LONGEST_RUN_ENTRY <= MAX_SOCKET_DIR;
  }

  /**
   * Socket directory for a server whose files live in `dir`: inside it when the path is short enough, else
   * `<runDir>/<key>` (a directory only pgbranch can write to, so the name may be predictable).
   */
  socketDir(dir: string, session: string, id: string): string {
    const inside = path.join(dir, 'run');
    if (inside.length <= MAX_SOCKET_DIR) return inside;
    return path.join(this.requireRunDir(), runEntry(`${session}-${id}`));
  }

  private requireRunDir(): string {
    if (!this.runDir) throw new Error(`No run directory was made for this engine in ${this.root} (openSession makes it).`);
    return this.runDir;
  }
}

/** Keeps long keys within the room left in the run directory. */
function runEntry(key: string): string {
  return key.length <= LONGEST_RUN_ENTRY ? key : createHash('sha1').update(key).digest('hex').slice(0, 16);
}
