import type { ClientConfig } from 'pg';
import type { BranchAddress } from './driver.js';

/** `postgresql://USER:PASSWORD@HOST:PORT/DATABASE` (contains the password: print it only where the user asked for it). */
export function addressUrl(address: BranchAddress): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `postgresql://${encodeURIComponent(address.user)}:${encodeURIComponent(address.password)}@${host}:${address.port}/${encodeURIComponent(address.database)}`;
}

/** TCP connection settings for `pg`. */
export function tcpConnection(address: BranchAddress): ClientConfig {
  return { host: address.host, port: address.port, user: address.user, password: address.password, database: address.database };
}

/**
 * Connection settings for pgbranch's own connections: over the unix socket where the driver offers one (peer
 * authentication, no password hashing, no TCP port needed), else over TCP.
 */
export function socketConnection(address: BranchAddress): ClientConfig {
  return address.socketDir ? { ...tcpConnection(address), host: address.socketDir } : tcpConnection(address);
}
