import { PgbranchError } from '@pgbranch/core/client';
import { startRun, type Run, type RunnerOptions, type RunPlace } from '@pgbranch/core/runner';
import type { TestProject } from 'vitest/node';
import { loadOptions, type PgbranchProvided } from './options.js';

/** Seeds or reuses the snapshot, starts the pool server, and tears it down (with a summary) after the run. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const options = loadOptions();
  const root = project.config.root;
  const run = await startOrExit(options, { root, name: 'vitest' });
  const provided: PgbranchProvided = { address: run.address, token: run.token, key: 'default', ...run.settings, root, snapshot: run.snapshot };
  project.provide('pgbranch', provided);
  return () => run.end();
}

/**
 * A failed global setup makes vitest report "No test files found" before the error, which sends people
 * looking in the wrong place. A pgbranch error (a seed file that fails, binaries not found…) already names
 * the file, the statement and what to do: print it alone and end the run with exit code 1. Nothing is
 * left behind: the pool server closed its engine before rethrowing.
 */
async function startOrExit(options: RunnerOptions, place: RunPlace): Promise<Run> {
  try {
    return await startRun(options, place);
  } catch (err) {
    if (!(err instanceof PgbranchError)) throw err;
    await new Promise<void>((resolve) => process.stderr.write(`\npgbranch: ${err.message}\n\n`, () => resolve()));
    process.exit(1);
  }
}
