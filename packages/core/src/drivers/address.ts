/** Where a branch's server takes connections, as the driver that runs it knows. */
export interface BranchAddress {
  /** TCP host clients connect to: 127.0.0.1, or the address at which a remote Docker host publishes ports. */
  host: string;
  port: number;
  /** The branch's database: `postgres` for a server per branch, its own database for the template driver. */
  database: string;
  user: string;
  /** The password of `user` (never logged). */
  password: string;
  /** Unix socket directory, where the driver offers one (local servers). */
  socketDir?: string;
}

/** `postgresql://USER:PASSWORD@HOST:PORT/DATABASE` (contains the password: print it only where the user asked for it). */
export function addressUrl(address: BranchAddress): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `postgresql://${encodeURIComponent(address.user)}:${encodeURIComponent(address.password)}@${host}:${address.port}/${encodeURIComponent(address.database)}`;
}

/** Connection settings in the shape `pg` takes (host is a socket directory for unix socket connections). */
export interface ClientSettings {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/** TCP connection settings for `pg`. */
export function tcpConnection(address: BranchAddress): ClientSettings {
  return { host: address.host, port: address.port, user: address.user, password: address.password, database: address.database };
}

/**
 * Connection settings for pgbranch's own connections: over the unix socket where the driver offers one (peer
 * authentication, no password hashing, no TCP port needed), else over TCP.
 */
export function socketConnection(address: BranchAddress): ClientSettings {
  return address.socketDir ? { ...tcpConnection(address), host: address.socketDir } : tcpConnection(address);
}
