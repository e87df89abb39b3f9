import { chmod, lstat, rm } from 'node:fs/promises';
import type net from 'node:net';
import path from 'node:path';
import { PgbranchError } from '../errors.js';

/**
 * Listens on a unix socket only its owner can connect to (mode 0600), in a directory nobody else can
 * put a file into: another user who could replace the socket would receive the workers' token.
 */
export async function listenOnPrivateSocket(server: net.Server, socketPath: string): Promise<void> {
  await checkDirectory(path.dirname(socketPath));
  await rm(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Not by narrowing the umask around listen(): the umask is process-wide, and file operations in flight on
    // libuv's thread pool (a branch directory being made meanwhile) would be created under it, unreadable by
    // the servers' account. Connecting needs write permission on the socket: with the usual umask others have
    // none from the start, and the chmod below closes it for the group too. Every connection needs the token anyway.
    server.listen({ path: socketPath }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(socketPath, 0o600);
}

/** The directory must be ours (or root's), and writable by nobody else unless sticky (as /tmp is). */
async function checkDirectory(dir: string): Promise<void> {
  const st = await lstat(dir);
  const uid = process.getuid?.();
  const ownerOk = uid === undefined || st.uid === uid || st.uid === 0;
  const othersWrite = (st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0;
  if (!st.isDirectory() || !ownerOk || othersWrite) {
    throw new PgbranchError(
      'PGBRANCH_POOL_SOCKET_UNSAFE',
      `The pool server will not listen in ${dir}: ${!st.isDirectory() ? 'it is not a directory' : !ownerOk ? `it belongs to uid ${st.uid}` : 'other users can write to it'}. ` +
        'Use a cache directory (PGBRANCH_CACHE_DIR) that only you can write to.',
    );
  }
}
