import { afterAll, beforeEach, expect, inject } from 'vitest';
import { FileBranch } from '@pgbranch/core/runner';
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

beforeEach(async (ctx) => {
  await current()?.testStarting(ctx.task.name);
  ctx.onTestFailed(() => current()?.testFailed());
});

afterAll(async () => {
  const file = current();
  setCurrent(undefined);
  await file?.close();
});
