import path from 'node:path';
import { repoRoot } from '../processes.js';

/**
 * An environment for a package manager or runner started in a consumer project: without the outer
 * vitest's worker variables and without the settings the workspace's own pnpm passes to its children
 * (npm_config_*, which would point npm, pnpm and yarn at the workspace's store and registry settings).
 */
export function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(__)?VITEST|^JEST_WORKER_ID$|^npm_|^NPM_CONFIG_|^PNPM_|^YARN_|^COREPACK_|^INIT_CWD$|^NODE_PATH$|^NODE_OPTIONS$|^PGBRANCH_/i.test(k)) continue;
    env[k] = v;
  }
  // The workspace's node_modules/.bin (added by `pnpm exec`) must not stand in for the project's own tools.
  env.PATH = (env.PATH ?? '').split(path.delimiter).filter((dir) => dir && !dir.startsWith(repoRoot + path.sep)).join(path.delimiter);
  return { ...env, FORCE_COLOR: '0', NO_COLOR: '1', ...extra };
}
