// The ways the generated suite can get its databases (BENCH_E2E_MODE); vitest.config.ts and db.ts dispatch on them.

/** Modes whose server is started once for the run by global-setup.ts. */
export const SHARED_SERVER_MODES = ['floor', 'template-wal-log', 'template-file-copy', 'template-clone', 'testcontainers-shared'] as const;

/** Modes served by the pgbranch vitest plugin. */
export const PGBRANCH_MODES = ['pgbranch-local', 'pgbranch-docker', 'pgbranch-template'] as const;

/** What global-setup.ts hands to the test files (`inject('e2eServer')`). */
export interface SharedServer {
  host: string;
  port: number;
  user: string;
  password?: string;
  /** The database the files connect to first (the migrated one for floor and testcontainers-shared). */
  database: string;
  /** Template modes: the migrated template database and how CREATE DATABASE copies it. */
  template?: { name: string; strategy: 'WAL_LOG' | 'FILE_COPY'; fileCopyMethod?: 'clone' };
}

declare module 'vitest' {
  export interface ProvidedContext {
    e2eServer: SharedServer;
  }
}
