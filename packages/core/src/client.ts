/**
 * What a test worker needs, and nothing more: the pool server client and the environment a lease
 * sets. Kept apart from the engine so that a worker does not load it for every test file.
 */
export { PoolClient } from './server/pool-client.js';
export { envFor, LeaseEnv, type LeaseEnvOption } from './server/lease-env.js';
export { terminationGuard, terminationNotice, isConnectionTermination, type TerminationCause } from './server/termination-guard.js';
export type { LeaseInfo, PoolAddress, ReleaseResult } from './server/protocol.js';
export type { KeptBranch } from './server/pool-server.js';
export { PgbranchError } from './errors.js';
