import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { isConnectionTermination, TerminationGuard, terminationNotice } from './termination-guard.js';

const terminated = () => Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

  it('during its window, takes the termination error an emitter has no listener for; everything else goes on as before', async () => {
    const guard = new TerminationGuard();
    const original = EventEmitter.prototype.emit;
    const seen: unknown[] = [];
    const release = guard.hold((err) => seen.push(err), 20);
    const idle = new EventEmitter(); // an idle pool connection: nobody listens to its 'error'
    const err = terminated();
    expect(idle.emit('error', err)).toBe(false);
    expect(seen).toEqual([err]);
    expect(() => idle.emit('error', new Error('a real bug'))).toThrow('a real bug');
    const listened = new EventEmitter();
    const heard: unknown[] = [];
    listened.on('error', (e) => heard.push(e));
    listened.emit('error', err);
    expect(heard).toEqual([err]);
    let data: unknown;
    idle.on('data', (d) => (data = d));
    idle.emit('data', 42);
    expect(data).toBe(42);
    release();
    await wait(50);
    expect(EventEmitter.prototype.emit).toBe(original);
    expect(() => idle.emit('error', terminated())).toThrow('administrator command');
    expect(seen).toHaveLength(1);
  });

  it('stays open until every holder has released, and the latest holder hears of terminations', async () => {
    const guard = new TerminationGuard();
    const first: unknown[] = [];
    const second: unknown[] = [];
    const releaseFirst = guard.hold((e) => first.push(e), 10);
    const releaseSecond = guard.hold((e) => second.push(e), 60);
    releaseFirst();
    await wait(30);
    new EventEmitter().emit('error', terminated());
    expect([first.length, second.length]).toEqual([0, 1]);
    releaseSecond();
    await wait(90);
    expect(() => new EventEmitter().emit('error', terminated())).toThrow();
  });

  it('takes the unhandled rejection of a query whose connection was ended, during its window only', async () => {
    const guard = new TerminationGuard();
    const seen: unknown[] = [];
    const before = process.listenerCount('unhandledRejection');
    const release = guard.hold((err) => seen.push(err), 20);
    const err = terminated();
    void Promise.reject(err); // cleanup that was not awaited
    await wait(10);
    expect(seen).toEqual([err]);
    release();
    await wait(50);
    expect(process.listenerCount('unhandledRejection')).toBe(before);
  });
});
