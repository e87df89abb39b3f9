/**
 * `@pgbranch/core/client`: a connection to a pool server (`@pgbranch/core/server`), for a test worker.
 * Kept apart from the engine so that a worker does not load it for every test file.
 */
export { PoolClient } from './server/pool-client.js';
export type { LeaseInfo, PoolAddress, ReleaseResult } from './server/protocol.js';
export type { KeptBranch } from './server/pool-server.js';
export { PgbranchError } from './errors.js';
