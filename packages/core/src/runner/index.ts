/**
 * `@pgbranch/core/runner`: what pgbranch's own packages build on — the vitest plugin and the jest
 * environment (starting a run, leasing each test file's branch) and the benchmarks. Not a user API:
 * it changes with those packages, in any release. Light on purpose: a test worker loads it for every
 * file, so it loads neither the engine nor the pool server until a global setup starts a run.
 */
export { startRun, type Run, type RunPlace } from './run.js';
export { FileBranch, type FileBranchOptions } from './file-branch.js';
export { runnerSettings, type RunnerOptions, type RunnerSettings } from './runner-options.js';
export type { LeaseEnvOption } from './lease-env.js';
export { runSummary } from './run-summary.js';
export { DEFAULT_TEARDOWN_TIMEOUT_MS, FAILED_DIFF_TIMEOUT_MS } from '../server/protocol.js';
/** The pool's percentile summary, for benchmark figures that compare with `pool.stats()`. */
export { summarize } from '../pool/latency.js';
/** pgbranch's server settings, for benchmark peers that should run with the same ones. */
export { defaultSettings } from '../snapshot/postgres-settings.js';
