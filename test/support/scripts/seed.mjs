// Seeds (or reuses) a recipe in its own process and prints what happened as one JSON line.
// usage: seed.mjs ENGINE_OPTIONS_JSON SQL_PATH...
import { createEngine } from '@pgbranch/core';

const [options, ...sql] = process.argv.slice(2);
const started = performance.now();
const engine = await createEngine(JSON.parse(options));
try {
  const snap = await engine.snapshot({ name: 'from-child', sql });
  process.stdout.write(JSON.stringify({ hash: snap.hash, reused: snap.reused, ms: performance.now() - started }) + '\n');
} finally {
  await engine.close();
}
