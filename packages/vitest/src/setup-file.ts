import { afterAll, beforeEach, expect, inject } from 'vitest';
import { FAILED_DIFF_TIMEOUT_MS, FileBranch } from '@pgbranch/core/runner';
import { current, setCurrent } from './runtime.js';

// Runs in the worker before each test file is imported: lease a branch (top-level await) and point
// the environment at it, so even module-level code sees the right DATABASE_URL.
const provided = inject('pgbranch');
const { address, token, key, root, isolation, keepOnFailure, diffOnFailure, env, teardownTimeout } = provided;
setCurrent(
  await FileBranch.open({
    address,
    token,
    key,
    root,
    testPath: expect.getState().testPath ?? 'unknown test file',
    settings: { isolation, keepOnFailure, diffOnFailure, env, teardownTimeout },
    env: process.env,
    // Through vitest's console, so the line shows with the file's output.
    report: (line) => console.warn(line),
  }),
);

// Giving a failed file's branch back reads its diff first (diffOnFailure): up to the clients' drain and the diff's own
// bound, which vitest's default hook timeout (10 s) would cut short. Otherwise the configured hook timeout applies.
const giveBackTimeout = diffOnFailure ? teardownTimeout + FAILED_DIFF_TIMEOUT_MS + 30_000 : undefined;

beforeEach(async (ctx) => {
  await current()?.testStarting(ctx.task.name);
  ctx.onTestFailed(() => current()?.testFailed());
}, giveBackTimeout);

afterAll(async () => {
  const file = current();
  setCurrent(undefined);
  await file?.close();
}, giveBackTimeout);
