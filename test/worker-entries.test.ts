import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from './support/processes.js';

// A test worker loads these entries once per test file (vitest and jest isolate files): they must not pull in
// the engine, the drivers or their libraries (pg, dockerode, tar-stream…), which cost ~100 ms of CPU per file.
const ENTRIES = ['packages/core/dist/runner/index.js', 'packages/core/dist/client.js', 'packages/jest/dist/environment.js'];
const CORE_DIST = path.join(repoRoot, 'packages/core/dist');

const dir = mkdtempSync(path.join(os.tmpdir(), 'pgbranch-entries-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hook = path.join(dir, 'hook.mjs');
writeFileSync(hook, "export async function load(url, context, next) { process.stderr.write('LOADED ' + url + '\\n'); return next(url, context); }\n");
const register = path.join(dir, 'register.mjs');
writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hook).href)});\n`);

/** Every module (file URL, node: built-ins left out) loading `entry` loads. */
function modulesLoadedBy(entry: string): string[] {
  const script = `await import(${JSON.stringify(pathToFileURL(path.join(repoRoot, entry)).href)})`;
  const run = spawnSync(process.execPath, ['--no-warnings', '--import', pathToFileURL(register).href, '--input-type=module', '-e', script], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`importing ${entry} failed: ${run.stderr}`);
  return run.stderr.split('\n').flatMap((line) => (line.startsWith('LOADED file:') ? [line.slice('LOADED '.length)] : []));
}

describe('what a test worker loads per file', () => {
  for (const entry of ENTRIES) {
    it(`${entry} loads no engine, driver or database library`, () => {
      const loaded = modulesLoadedBy(entry).map((url) => new URL(url).pathname);
      expect(loaded.length).toBeGreaterThan(1);
      const heavy = loaded.filter((file) => {
        const core = path.relative(CORE_DIST, file);
        const inCore = !core.startsWith('..');
        return (inCore && /^(drivers|engine|pool\/pool|named|cloners|keeper)\b|^options\.js$/.test(core)) || /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?(pg|dockerode|tar-stream|debug)\//.test(file);
      });
      expect(heavy).toEqual([]);
    });
  }
});
