import { createHash } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Linux limits a unix socket path to 107 bytes; "/.s.PGSQL.65535" takes 16 of them. */
export const MAX_SOCKET_DIR = 107 - 16;
/** Longest entry name made in the run directory: `n-` + a 63-character branch name. */
const LONGEST_RUN_ENTRY = 65;

/** Where everything lives inside the cache directory. One place, so reaping and gc see what the engine made. */
export class CacheLayout {
  private recordedRunDir: string | undefined;

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
  /** Where a session's pool server listens: beside its owner record when the path is short enough. */
  poolSocket(session: string): string {
    const inside = path.join(this.sessions, `${session}.sock`);
    if (inside.length <= 107) return inside;
    const runDir = this.runDir;
    return runDir ? path.join(runDir, `${session}-pool.sock`) : path.join(os.tmpdir(), `pgbranch-${session}-pool.sock`);
  }
  get secret(): string {
    return path.join(this.root, 'secret');
  }
  /** The record of the OS account this cache directory's servers run as (when pgbranch runs as root). */
  get account(): string {
    return path.join(this.root, 'server-account.json');
  }
  /** pg_hba.conf / pg_ident.conf every local server of this cache uses (runtime settings, not in snapshots). */
  get auth(): string {
    return path.join(this.root, 'auth');
  }
  /** The record of this cache's run directory (see runDir). */
  get runDirRecord(): string {
    return path.join(this.root, 'run-dir');
  }

  /**
   * A short private directory for sockets whose path inside the cache would be too long: made by mkdtemp
   * (an unpredictable name nobody can plant in advance), owned by this user, recorded in `run-dir` and only
   * reused while it still is a real directory of this user that no one else can write to.
   * Undefined until `prepareRunDir` made one (see engine/run-dir.ts).
   */
  get runDir(): string | undefined {
    if (this.recordedRunDir) return this.recordedRunDir;
    let recorded: string;
    try {
      recorded = readFileSync(this.runDirRecord, 'utf8').trim();
    } catch {
      return undefined;
    }
    const st = (() => {
      try {
        return lstatSync(recorded);
      } catch {
        return undefined;
      }
    })();
    const me = process.getuid?.() ?? 0;
    if (!recorded || !st || !st.isDirectory() || st.uid !== me || (st.mode & 0o022) !== 0) return undefined;
    this.recordedRunDir = recorded;
    return recorded;
  }

  /** Forgets the cached run directory (after a new one was recorded). */
  set runDir(dir: string | undefined) {
    this.recordedRunDir = dir;
  }

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

  /** Socket directory of a named branch. */
  namedSocketDir(dir: string, name: string): string {
    const inside = path.join(dir, 'run');
    if (inside.length <= MAX_SOCKET_DIR) return inside;
    return path.join(this.requireRunDir(), `n-${name}`);
  }

  private requireRunDir(): string {
    const runDir = this.runDir;
    if (!runDir) throw new Error(`No run directory is recorded for ${this.root} (engine/run-dir.ts prepares it).`);
    return runDir;
  }
}

/** Keeps long keys within the room left in the run directory. */
function runEntry(key: string): string {
  return key.length <= LONGEST_RUN_ENTRY ? key : createHash('sha1').update(key).digest('hex').slice(0, 16);
}
