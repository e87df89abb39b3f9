/**
 * `@pgbranch/core/server`: the pool server, which owns an engine and warm pools and leases branches
 * to the workers of a test run (`PoolClient` in `@pgbranch/core/client` talks to it). The runner
 * packages start it in their global setup.
 */
export { PoolServer, type PoolServerOptions, type KeptBranch } from './pool-server.js';
export { DEFAULT_TEARDOWN_TIMEOUT_MS, type LeaseInfo, type PoolAddress, type ReleaseResult } from './protocol.js';
