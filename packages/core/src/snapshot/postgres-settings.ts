/**
 * Server settings used for every branch unless overridden (`postgres.settings`). Tuned for tests:
 * durability off (a branch is disposable), small memory, no background work that a test does not need.
 */
export function defaultSettings(major: number): Record<string, string> {
  const settings: Record<string, string> = {
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    wal_level: 'minimal',
    max_wal_senders: '0',
    // No logical replication launcher process per branch.
    max_logical_replication_workers: '0',
    min_wal_size: '2MB',
    max_wal_size: '256MB',
    checkpoint_timeout: '1h',
    shared_buffers: '16MB',
    max_connections: '50',
    autovacuum: 'off',
    jit: 'off',
    huge_pages: 'off',
    log_checkpoints: 'off',
    TimeZone: 'UTC',
  };
  // One process per server instead of io workers: less memory and faster start for short-lived branches.
  if (major >= 18) settings.io_method = 'sync';
  return settings;
}

/**
 * Settings that only change speed or resources, not what is written: left out of the snapshot hash
 * so that tuning them does not rebuild snapshots.
 */
export const RUNTIME_ONLY_SETTINGS = new Set([
  'fsync',
  'synchronous_commit',
  'full_page_writes',
  'max_wal_senders',
  'max_logical_replication_workers',
  'min_wal_size',
  'max_wal_size',
  'checkpoint_timeout',
  'shared_buffers',
  'max_connections',
  'autovacuum',
  'jit',
  'huge_pages',
  'log_checkpoints',
  'io_method',
  'work_mem',
  'maintenance_work_mem',
  'effective_cache_size',
  'log_statement',
  'log_min_messages',
  'log_min_duration_statement',
  // Who may connect (drivers/local/client-auth.ts): files of the cache directory, not of the data.
  'hba_file',
  'ident_file',
]);

/** initdb arguments; they shape the data, so they are part of the snapshot hash. */
export const INITDB_ARGS = ['--username=postgres', '--encoding=UTF8', '--locale=C', '--wal-segsize=1', '--auth-local=trust', '--auth-host=scram-sha-256'];

/** The superuser and database every branch URL uses. */
export const SUPERUSER = 'postgres';
export const DATABASE = 'postgres';
