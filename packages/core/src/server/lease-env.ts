import type { LeaseInfo } from './protocol.js';

/** Environment variables a leased branch sets for a test file: DATABASE_URL and libpq's PG* variables. */
export function envFor(lease: LeaseInfo): Record<string, string> {
  return {
    DATABASE_URL: lease.url,
    PGHOST: lease.host,
    PGPORT: String(lease.port),
    PGUSER: lease.user,
    PGPASSWORD: lease.password,
    PGDATABASE: lease.database,
  };
}
