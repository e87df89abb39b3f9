import { chmod, rm } from 'node:fs/promises';
import type net from 'node:net';
import { assertPrivateParent } from '../system/private-dir.js';

/**
 * Listens on a unix socket only its owner can connect to (mode 0600), in a directory nobody else can
 * put a file into: another user who could replace the socket would receive the workers' token.
 */
export async function listenOnPrivateSocket(server: net.Server, socketPath: string): Promise<void> {
  await assertPrivateParent(socketPath);
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
