// Creates branches and a snapshot of the first one, then waits to be killed, printing where its servers and data are.
// usage: hold-branches.mjs ENGINE_OPTIONS_JSON COUNT SQL_PATH...
import { createEngine } from '@pgbranch/core';

const [options, count, ...sql] = process.argv.slice(2);
const engine = await createEngine(JSON.parse(options));
const snap = await engine.snapshot({ name: 'held', sql });
const branches = [];
for (let i = 0; i < Number(count); i++) branches.push(await snap.branch({ name: `held-${i}` }));
const child = await branches[0].snapshot({ name: 'held-child' });
process.stdout.write(
  JSON.stringify({
    ready: true,
    session: engine.info().session,
    branches: branches.map((b) => ({ pid: b.pid, dir: b.dir, containerId: b.containerId, database: b.connectionOptions().database })),
    child: child.hash,
  }) + '\n',
);
setInterval(() => undefined, 1 << 30);
