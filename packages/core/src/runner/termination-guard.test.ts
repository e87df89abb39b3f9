import { EventEmitter } from 'node:events';
import net from 'node:net';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { isConnectionTermination, isPgTerminationRejection, TerminationGuard, terminationNotice } from './termination-guard.js';

/** What node-postgres reports when the server ends the session (a server error: it has a severity). */
const terminated = () => Object.assign(new pg.DatabaseError('terminating connection due to administrator command', 0, 'error'), { code: '57P01', severity: 'FATAL' });
/** A client of the leased branch, never connected: only its emitter is used. */
const pgClient = (port = 5432) => new pg.Client({ host: '127.0.0.1', port });
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
    const release = guard.hold((err) => seen.push(err), { graceMs: 20 });
    const idle = pgClient(); // a client nobody listens to
    const err = terminated();
    expect(idle.emit('error', err)).toBe(false);
    expect(seen).toEqual([err]);
    expect(() => idle.emit('error', new Error('a real bug'))).toThrow('a real bug');
    const listened = pgClient();
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
    const releaseFirst = guard.hold((e) => first.push(e), { graceMs: 10 });
    const releaseSecond = guard.hold((e) => second.push(e), { graceMs: 60 });
    releaseFirst();
    await wait(30);
    pgClient().emit('error', terminated());
    expect([first.length, second.length]).toEqual([0, 1]);
    releaseSecond();
    await wait(90);
    expect(() => pgClient().emit('error', terminated())).toThrow();
  });

  it('takes the unhandled rejection of a query whose connection was ended, during its window only', async () => {
    const guard = new TerminationGuard();
    const seen: unknown[] = [];
    const before = process.listenerCount('unhandledRejection');
    const release = guard.hold((err) => seen.push(err), { graceMs: 20 });
    const err = terminated();
    void Promise.reject(err); // cleanup that was not awaited
    await wait(10);
    expect(seen).toEqual([err]);
    release();
    await wait(50);
    expect(process.listenerCount('unhandledRejection')).toBe(before);
  });

  it("takes a pg-pool idle client's error, and with a target only connections to the leased branch", async () => {
    const guard = new TerminationGuard();
    const seen: unknown[] = [];
    const release = guard.hold((err) => seen.push(err), { graceMs: 20, target: { port: 6001 } });
    const pool = new pg.Pool({ host: '127.0.0.1', port: 6001 });
    const err = terminated();
    expect(pool.emit('error', err, pgClient(6001))).toBe(false); // how pg-pool reports an idle client's error
    expect(seen).toEqual([err]);
    expect(() => pgClient(6002).emit('error', terminated())).toThrow('administrator command'); // another server's client
    expect(seen).toHaveLength(1);
    release();
    await wait(50);
    await pool.end();
  });

  it('leaves errors of anything but a PostgreSQL connection to the runner: a socket\'s ECONNREFUSED, an error event of another emitter', async () => {
    const guard = new TerminationGuard();
    const seen: unknown[] = [];
    const release = guard.hold((err) => seen.push(err), { graceMs: 20, target: { port: 6001 } });
    const closed = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => resolve(port));
      });
    });
    // A net.connect to a closed port, nobody listening to its 'error': the socket's emit throws, as without the guard.
    const socket = net.connect(closed, '127.0.0.1');
    const thrown = await new Promise<unknown>((resolve) => {
      socket.once('close', () => resolve('not thrown')); // 'close' follows 'error'
      const emit = socket.emit;
      socket.emit = function (this: net.Socket, event: string | symbol, ...args: unknown[]) {
        try {
          return emit.call(this, event, ...args);
        } catch (e) {
          resolve(e);
          return false;
        }
      } as typeof socket.emit;
    });
    expect(thrown).toMatchObject({ code: 'ECONNREFUSED' });
    expect(() => new EventEmitter().emit('error', terminated())).toThrow('administrator command'); // not a pg emitter
    expect(seen).toEqual([]);
    release();
    await wait(50);
  });

  it('hands a non-PostgreSQL ECONNRESET rejection on to the runner during its window', async () => {
    const guard = new TerminationGuard();
    const seen: unknown[] = [];
    const runner: unknown[] = [];
    const onRunner = (reason: unknown) => runner.push(reason); // the runner's own handler (vitest, jest)
    process.on('unhandledRejection', onRunner);
    const release = guard.hold((err) => seen.push(err), { graceMs: 20, target: { port: 6001 } });
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', errno: -104, syscall: 'read' }); // e.g. a redis client's
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED', address: '127.0.0.1', port: 6379 });
    void Promise.reject(reset);
    void Promise.reject(refused);
    await wait(10);
    expect(seen).toEqual([]);
    expect([...new Set(runner)]).toEqual([reset, refused]); // handed on (a runner that reports only when alone hears it then)
    release();
    await wait(50);
    process.off('unhandledRejection', onRunner);
  });

  it('recognises node-postgres rejections only: server shutdown errors, pg\'s own messages, refusals by the leased branch', () => {
    const target = { port: 6001, socketDir: '/tmp/pgbranch-x' };
    expect(isPgTerminationRejection(terminated())).toBe(true);
    expect(isPgTerminationRejection(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isPgTerminationRejection({ code: 'ERR_UNHANDLED_ERROR', context: terminated() })).toBe(true);
    expect(isPgTerminationRejection({ code: 'ECONNREFUSED', port: 6001, address: '127.0.0.1' }, target)).toBe(true);
    expect(isPgTerminationRejection({ code: 'ECONNREFUSED', address: '/tmp/pgbranch-x/.s.PGSQL.6001' }, target)).toBe(true);
    expect(isPgTerminationRejection({ code: 'ECONNREFUSED', port: 6379, address: '127.0.0.1' }, target)).toBe(false);
    expect(isPgTerminationRejection({ code: 'ECONNREFUSED', port: 6001, address: '127.0.0.1' })).toBe(false); // no target: whose port?
    expect(isPgTerminationRejection({ code: 'ECONNRESET', message: 'read ECONNRESET' }, target)).toBe(false);
    expect(isPgTerminationRejection({ code: 'EPIPE', message: 'write EPIPE' }, target)).toBe(false);
    expect(isPgTerminationRejection({ code: '57P01', message: 'terminating connection due to administrator command' })).toBe(false); // no severity: not a server error
    expect(isPgTerminationRejection(Object.assign(new Error('Connection terminated'), { code: 'ERR_STREAM_DESTROYED' }))).toBe(false);
  });
});
