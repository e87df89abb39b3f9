// Creates branches and then waits to be killed, printing where its servers and directories are.
// usage: hold-branches.mjs CACHE_DIR CLONER COUNT SQL_PATH...
import { createEngine } from '@pgbranch/core';

const [cacheDir, cloner, count, ...sql] = process.argv.slice(2);
const engine = await createEngine({ cacheDir, cloner });
const snap = await engine.snapshot({ name: 'held', sql });
const branches = [];
for (let i = 0; i < Number(count); i++) branches.push(await snap.branch({ name: `held-${i}` }));
process.stdout.write(
  JSON.stringify({ ready: true, session: engine.info().session, pids: branches.map((b) => b.pid), dirs: branches.map((b) => b.dir) }) + '\n',
);
setInterval(() => undefined, 1 << 30);
