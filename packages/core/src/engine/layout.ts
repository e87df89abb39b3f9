import os from 'node:os';
import path from 'node:path';

/** Linux limits a unix socket path to 107 bytes; "/.s.PGSQL.65535" takes 16 of them. */
const MAX_SOCKET_DIR = 107 - 16;

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
  /** Where a session's pool server listens: beside its owner record when the path is short enough. */
  poolSocket(session: string): string {
    const inside = path.join(this.sessions, `${session}.sock`);
    return inside.length <= 107 ? inside : path.join(os.tmpdir(), `pgbranch-${session}-pool.sock`);
  }
  get secret(): string {
    return path.join(this.root, 'secret');
  }

  /** Socket directory for a server whose files live in `dir`: inside it when the path is short enough. */
  socketDir(dir: string, session: string, id: string): string {
    const inside = path.join(dir, 'run');
    return inside.length <= MAX_SOCKET_DIR ? inside : path.join(os.tmpdir(), `pgbranch-${session}-${id}`);
  }
}
