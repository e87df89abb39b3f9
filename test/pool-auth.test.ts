import { execFile, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PoolClient } from '@pgbranch/core/client';
import { PoolServer } from '@pgbranch/core/server';
import { query } from './support/pg.js';
import { freshCacheDir, postgresProcessesUnder } from './support/processes.js';
import { requireAll } from './support/targets.js';

const INTRUDER = 'pgbranch-intruder';
const run = promisify(execFile);

/**
 * Connects to a pool server address, writes `lines`, and returns everything the server sent until it
 * closed the connection (or 5 s passed). The same code runs in this process and, as another user, in a child.
 */
const PROBE = `
const net = require('node:net');
const [address, ...lines] = process.argv.slice(1);
const m = /^tcp:([\\d.]+):(\\d+)$/.exec(address);
const socket = net.connect(m ? { host: m[1], port: Number(m[2]) } : { path: address.slice(5) });
let got = '';
socket.setEncoding('utf8');
let error;
socket.on('connect', () => socket.write(lines.map((l) => l + '\\n').join('')));
socket.on('data', (d) => (got += d));
socket.on('error', (e) => (error ??= e.code));
socket.on('close', () => { clearTimeout(t); process.stdout.write(JSON.stringify({ got, error, closed: true })); });
const t = setTimeout(() => { process.stdout.write(JSON.stringify({ got, error, closed: false })); process.exit(0); }, 5000);
`;

/** Runs {@link PROBE} in a child process (as `user` when given); the server in this process keeps serving meanwhile. */
async function probe(address: string, lines: string[], user?: string): Promise<{ got: string; error?: string; closed: boolean }> {
  const argv = [process.execPath, '-e', PROBE, address, ...lines];
  const { stdout } = user ? await run('runuser', ['-u', user, '--', ...argv], { cwd: '/' }) : await run(argv[0]!, argv.slice(1));
  return JSON.parse(stdout) as { got: string; error?: string; closed: boolean };
}

/** What a refused connection must never see: a lease's URL or its password. */
function expectNothingLeased(got: string, password: string): void {
  expect(got).not.toContain('postgresql://');
  expect(got).not.toContain(password);
  expect(got).not.toContain('leaseId');
}

const acquire = JSON.stringify({ id: 1, op: 'acquire', key: 'default' });

/** Root can run a probe as a second, unprivileged account (created when missing). */
function intruderAvailable(): string | undefined {
  if (process.getuid?.() !== 0 || process.platform !== 'linux') return 'needs root on Linux to run a probe as another user';
  if (spawnSync('id', ['-u', INTRUDER]).status !== 0 && spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', INTRUDER]).status !== 0) {
    return `cannot create the user ${INTRUDER}`;
  }
  if (spawnSync('runuser', ['-u', INTRUDER, '--', process.execPath, '-e', '0']).status !== 0) return `cannot run ${process.execPath} as ${INTRUDER} (runuser)`;
  return undefined;
}
const noIntruder = intruderAvailable();
if (noIntruder) {
  if (requireAll()) throw new Error(`pool-auth: ${noIntruder}`);
  console.warn(`pool-auth: another user's probes skipped: ${noIntruder}`);
}

describe.each(['unix', 'tcp'] as const)('pool server authentication (%s)', (listen) => {
  const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', `pool-auth-${listen}`);
  let server: PoolServer;
  let password: string;

  beforeAll(async () => {
    await freshCacheDir(cacheDir);
    server = await PoolServer.start({ engine: { cacheDir }, recipes: { default: { name: 'auth', sql: [] } }, pool: { warm: 1, max: 3 }, listen });
    await server.whenWarm();
    // The password every lease carries: what a refused connection must not learn.
    await using client = await PoolClient.connect(server.address, server.token);
    const lease = await client.acquire('default');
    password = lease.password;
    expect(password.length).toBeGreaterThan(8);
    await client.release(lease.leaseId);
  });
  afterAll(async () => {
    await server.close();
    expect(postgresProcessesUnder(cacheDir)).toEqual([]);
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('serves a client that presents the token', async () => {
    expect(server.address).not.toContain(server.token);
    await using client = await PoolClient.connect(server.address, server.token);
    const lease = await client.acquire('default');
    expect(await query(lease.url, 'select 1 as ok')).toEqual([{ ok: 1 }]);
    await client.release(lease.leaseId);
  });

  it('refuses, and closes, a connection whose first message is not hello with the token (same user)', async () => {
    const before = server.stats().leasesServed;
    for (const lines of [
      [acquire],
      [JSON.stringify({ id: 1, op: 'stats' })],
      [JSON.stringify({ id: 1, op: 'hello', token: 'guess' }), acquire],
      [JSON.stringify({ id: 1, op: 'hello', token: server.token.slice(0, -1) }), acquire],
      [JSON.stringify({ id: 1, op: 'hello' }), acquire],
      [acquire, JSON.stringify({ id: 2, op: 'hello', token: server.token }), acquire], // too late: the first message decides
    ]) {
      const { got, closed } = await probe(server.address, lines);
      expect(closed).toBe(true);
      expect(got).toContain('PGBRANCH_POOL_AUTH_FAILED');
      expect(got.trim().split('\n')).toHaveLength(1); // one refusal, nothing served after it
      expectNothingLeased(got, password);
    }
    expect(server.stats().leasesServed).toBe(before);
  });

  it('PoolClient.connect rejects a wrong token with a stable code, and never shows the token', async () => {
    const err = await PoolClient.connect(server.address, 'not-the-token').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PGBRANCH_POOL_AUTH_FAILED' });
    expect((err as Error).message).toMatch(/refused the token/);
    expect((err as Error).message).not.toContain(server.token);
  });

  // Only a unix socket has a file mode (TCP has no such test, rather than a skipped one).
  if (listen === 'unix') {
    it('listens on a socket only its owner can connect to', () => {
      const socket = server.address.slice('unix:'.length);
      expect(statSync(socket).mode & 0o777).toBe(0o600);
      expect(statSync(path.dirname(socket)).mode & 0o022).toBe(0); // nobody else can replace it
    });
  }

  it.skipIf(noIntruder !== undefined)(`another local user (${INTRUDER}) gets no lease, with or without a guess`, async () => {
    const before = server.stats().leasesServed;
    for (const lines of [[acquire], [JSON.stringify({ id: 1, op: 'hello', token: 'guess' }), acquire]]) {
      const { got, error } = await probe(server.address, lines, INTRUDER);
      // TCP: refused by the server; unix: the socket's mode refuses the connection itself.
      if (listen === 'tcp') expect(got).toContain('PGBRANCH_POOL_AUTH_FAILED');
      else expect(error).toBe('EACCES');
      expectNothingLeased(got, password);
    }
    expect(server.stats().leasesServed).toBe(before);
  });
});

describe('pool server under a umask of 002 (private user groups: the default for users on Ubuntu and Fedora)', () => {
  it('starts, with its owner records and socket not writable by the group', async () => {
    const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'pool-auth-umask');
    await freshCacheDir(cacheDir);
    const previous = process.umask(0o002);
    try {
      await using server = await PoolServer.start({ engine: { cacheDir }, recipes: { default: { name: 'umask', sql: [] } }, pool: { warm: 0 } });
      expect(statSync(path.join(cacheDir, 'sessions')).mode & 0o022).toBe(0);
      await using client = await PoolClient.connect(server.address, server.token);
      const lease = await client.acquire('default');
      expect(await query(lease.url, 'select 1 as one')).toEqual([{ one: 1 }]);
    } finally {
      process.umask(previous);
    }
    expect(postgresProcessesUnder(cacheDir)).toEqual([]);
    await rm(cacheDir, { recursive: true, force: true });
  });
});
