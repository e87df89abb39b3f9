// Starts a keeper on a cache directory and exits (used to check that a second keeper is refused).
// usage: start-keeper.mjs CACHE_DIR
import { createEngine, Keeper } from '@pgbranch/core';

const engine = await createEngine({ cacheDir: process.argv[2] });
try {
  const keeper = new Keeper(engine);
  await keeper.start();
  await keeper.close();
  process.stdout.write(JSON.stringify({ started: true }) + '\n');
} finally {
  await engine.close();
}
