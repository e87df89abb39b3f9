// A random mix of branch lifecycle operations, run until it is killed (the chaos test SIGKILLs it).
// usage: lifecycle-workload.mjs CACHE_DIR SEED SQL_PATH...   (PGBRANCH_TEST_DRIVER=docker: containers of the test image)
import { createEngine } from '@pgbranch/core';

const [cacheDir, seedText, ...sql] = process.argv.slice(2);
let seed = Number(seedText);
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const pick = (list) => list[Math.floor(random() * list.length)];

const docker = process.env.PGBRANCH_TEST_DRIVER === 'docker';
const engine = await createEngine(
  docker ? { cacheDir, driver: 'docker', docker: { image: process.env.PGBRANCH_TEST_DOCKER_IMAGE ?? 'pgbranch-test/postgres:18', network: 'host', storage: 'image' } } : { cacheDir },
);
const snap = await engine.snapshot({ name: 'chaos', sql });
const named = engine.named();
const pool = engine.pool(snap, { warm: 1, max: 3 });
const leases = [];
process.stdout.write(JSON.stringify({ ready: true }) + '\n');

for (let i = 0; ; i++) {
  const branches = (await named.list()).filter((b) => b.state !== 'broken' && b.state !== 'creating');
  const op = branches.length === 0 ? 'create' : pick(['create', 'create-from-branch', 'suspend', 'resume', 'reset', 'rm', 'lease', 'session-branch']);
  const target = pick(branches);
  process.stdout.write(JSON.stringify({ op, target: target?.name }) + '\n');
  if (op === 'create' || (op === 'create-from-branch' && branches.length >= 5)) {
    if (branches.length >= 5) await named.destroy(target.name);
    else await named.create(`w${seedText}-${i}`, snap);
  } else if (op === 'create-from-branch') await named.create(`w${seedText}-${i}`, target.name);
  else if (op === 'suspend') await named.suspend(target.name);
  else if (op === 'resume') await named.resume(target.name);
  else if (op === 'reset') await named.reset(target.name);
  else if (op === 'rm') await named.destroy(target.name);
  else if (op === 'lease') {
    leases.push(await pool.acquire());
    if (leases.length > 2) await leases.shift().release();
  } else {
    const branch = await snap.branch();
    await branch.suspend();
    await branch.resume();
  }
}
