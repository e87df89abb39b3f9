import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isConnectionTermination, terminationNotice } from './termination-guard.js';

const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../test/support/scripts/termination-guard.mjs');
const run = (mode: string) => spawnSync(process.execPath, [script, mode], { encoding: 'utf8' });

describe('termination guard', () => {
  it('recognises node-postgres termination errors, wrapped or not, and nothing else', () => {
    expect(isConnectionTermination({ code: '57P01', message: 'terminating connection due to administrator command' })).toBe(true);
    expect(isConnectionTermination(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isConnectionTermination({ code: 'ERR_UNHANDLED_ERROR', context: { code: '57P03' } })).toBe(true);
    expect(isConnectionTermination({ code: '23505', message: 'duplicate key value violates unique constraint' })).toBe(false);
    expect(isConnectionTermination(new Error('Connection terminated by the user'))).toBe(false);
    expect(isConnectionTermination('57P01')).toBe(false);
  });

  it('names the file and the next step, never more of the error than its code and message', () => {
    const err = Object.assign(new Error('Connection terminated unexpectedly'), { client: { password: 'hunter2' } });
    const line = terminationNotice('test/a.test.ts', 'reset', err);
    expect(line).toMatch(/^pgbranch: test\/a\.test\.ts: reset\(\) restarts .*\(Connection terminated unexpectedly\)\. Close or re-create/);
    expect(line).not.toContain('hunter2');
    expect(terminationNotice('t.js', 'teardown', { code: '57P01', message: 'x' }, 300)).toMatch(/still open 300 ms after the file ended; pgbranch closed it \(57P01 x\)/);
  });

  it('takes termination errors from the runner’s handlers for its window, passes others on, and gives the handlers back', () => {
    const { status, stdout, stderr } = run('forward');
    expect(status, stderr).toBe(0);
    const [during, after] = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(during.during).toEqual({ seen: ['57P01', 'ERR_UNHANDLED_ERROR'], runner: ['a real bug'], listeners: 1, runnerHeld: true });
    expect(after.after).toEqual({ listeners: 1, runnerBack: true });
  });

  it('keeps guarding, and loses no handler, under a runner that swaps the handlers per file (jest-circus)', () => {
    const { status, stdout, stderr } = run('swapped');
    expect(status, stderr).toBe(0);
    expect(JSON.parse(stdout.trim())).toEqual({
      got: { top: ['bug after the run'], circus: ['bug in file 2'], guard: ['reset in file 2'] },
      listeners: 1,
      topBack: true,
    });
  });

  it('lets any other error crash a process that had no handler, as it would without the guard', () => {
    const { status, stdout, stderr } = run('alone');
    expect(status).not.toBe(0);
    expect(stderr).toContain('a real bug, unhandled');
    expect(stdout).toBe('');
  });
});
