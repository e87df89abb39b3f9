// Creates Docker branches and a snapshot of one, then waits to be killed.
// usage: hold-docker-branches.mjs CACHE_DIR IMAGE STORAGE COUNT SQL_PATH...
import { createEngine } from '@pgbranch/core';

const [cacheDir, image, storage, count, ...sql] = process.argv.slice(2);
const engine = await createEngine({ cacheDir, driver: 'docker', docker: { image, network: 'host', storage } });
const snap = await engine.snapshot({ name: 'held', sql });
const branches = [];
for (let i = 0; i < Number(count); i++) branches.push(await snap.branch({ name: `held-${i}` }));
const child = await branches[0].snapshot({ name: 'held-child' });
process.stdout.write(JSON.stringify({ ready: true, session: engine.info().session, containers: branches.map((b) => b.containerId), child: child.hash }) + '\n');
setInterval(() => undefined, 1 << 30);
