// What branch isolation costs at creation: branch() + first query (test branches), named create (its own
// password: one ALTER ROLE with a SCRAM verifier), and the connections pgbranch makes itself over the socket
// (root: peer) against the same connection with a password (SCRAM) and over TCP.
// usage: node bench/security-cost.mjs [--iterations N] [--cloner reflink] [--cache-dir DIR]
import { pbkdf2Sync } from 'node:crypto';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createEngine } from '@pgbranch/core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    iterations: { type: 'string', default: '20' },
    cloner: { type: 'string', default: 'reflink' },
    'cache-dir': { type: 'string' },
  },
});
const n = Number(values.iterations);
const cacheDir = values['cache-dir'] ?? path.join(process.env.PGBRANCH_TEST_REFLINK_DIR ?? os.tmpdir(), 'security-cost');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = async (fn) => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};
const connectOnce = async (config) => {
  const client = new pg.Client(config);
  await client.connect();
  await client.query('select 1');
  await client.end();
};

await rm(cacheDir, { recursive: true, force: true });
const engine = await createEngine({ cacheDir, cloner: values.cloner });
const out = {};
try {
  const snap = await engine.snapshot({ name: 'cost', sql: [path.join(root, 'fixtures/recipes/sync-store')] });
  const branchMs = [];
  const socketMs = [];
  const socketPasswordMs = [];
  const tcpMs = [];
  for (let i = 0; i <= n; i++) {
    let branch;
    const ms = await time(async () => {
      branch = await snap.branch();
      await connectOnce(branch.url);
    });
    const c = branch.connectionOptions();
    const socket = { host: branch.socketDir, port: branch.port, user: c.user, database: c.database };
    // Interleaved rounds, so that load from elsewhere hits each kind alike.
    for (let round = 0; round < 5 && i > 0; round++) {
      socketMs.push(await time(() => connectOnce(socket)));
      socketPasswordMs.push(await time(() => connectOnce({ ...socket, password: c.password })));
      tcpMs.push(await time(() => connectOnce(c)));
    }
    await branch.destroy();
    if (i > 0) branchMs.push(ms); // the first one warms caches
  }
  const named = engine.named();
  const namedMs = [];
  for (let i = 0; i <= Math.min(n, 10); i++) {
    const ms = await time(() => named.create(`cost-${i}`, snap));
    await named.destroy(`cost-${i}`);
    if (i > 0) namedMs.push(ms);
  }
  Object.assign(out, {
    cloner: engine.info().cloner,
    serverUser: engine.info().serverUser,
    iterations: n,
    'branch() + first TCP query, median ms': median(branchMs),
    'socket connection, no password (pgbranch internal), median ms': median(socketMs),
    'socket connection with password, median ms': median(socketPasswordMs),
    'TCP connection with password (SCRAM), median ms': median(tcpMs),
    'named create, median ms': median(namedMs),
    'SCRAM client key derivation (PBKDF2-SHA256, 4096 iterations), median ms': median(
      Array.from({ length: 21 }, () => {
        const t = performance.now();
        pbkdf2Sync('x'.repeat(24), 'salt-salt-salt-s', 4096, 32, 'sha256');
        return performance.now() - t;
      }),
    ),
  });
} finally {
  await engine.close();
  await rm(cacheDir, { recursive: true, force: true });
}
console.log(JSON.stringify(out, null, 2));
