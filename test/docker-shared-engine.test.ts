import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '@pgbranch/core';
import { containersOf, containerState, dockerUnavailable, TEST_IMAGE } from './support/docker.js';
import { query } from './support/pg.js';
import { freshCacheDir, repoRoot } from './support/processes.js';
import { requireAll } from './support/targets.js';

// Two CI runners sharing one Docker engine, both with their cache at the same path: machine B is simulated by a
// private mount namespace in which another directory is mounted at machine A's cache path.
const root = path.join(os.tmpdir(), 'pgbranch-test', 'shared-engine');
const cacheDir = path.join(root, 'cache');
const machineB = path.join(root, 'machine-b');
const isRoot = process.getuid?.() === 0;
const unavailable = dockerUnavailable() ?? (isRoot ? undefined : 'a private mount namespace (standing in for another machine) needs root');

/** `pgbranch gc` run on "machine B": its own cache directory, seen at the same path as machine A's. */
function gcOnMachineB(): string {
  const cli = path.join(repoRoot, 'packages/core/dist/cli/main.js');
  return execFileSync(
    'unshare',
    ['-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$1" "$2" && exec "$3" "$4" gc --cache-dir "$2"', 'sh', machineB, cacheDir, process.execPath, cli],
    { encoding: 'utf8', env: { ...process.env, PGBRANCH_QUIET: '1' } },
  );
}

if (unavailable && !requireAll()) {
  describe.skip(`one Docker engine shared by two machines (skipped: ${unavailable})`, () => it('needs Docker and root', () => undefined));
} else {
  describe('one Docker engine shared by two machines whose cache directories have the same path', () => {
    let engine: Engine;

    beforeAll(async () => {
      if (unavailable) throw new Error(`PGBRANCH_TEST_REQUIRE=all but ${unavailable}`);
      await freshCacheDir(cacheDir);
      await rm(machineB, { recursive: true, force: true });
      await mkdir(machineB, { recursive: true });
      // Machine B's cache has an identity of its own (made by its first engine, as machine A's was).
      await writeFile(path.join(machineB, 'cache-id'), randomBytes(12).toString('hex'));
      await writeFile(path.join(root, 'one.sql'), 'create table marks (id int primary key); insert into marks values (1), (2);');
      engine = await createEngine({ cacheDir, driver: 'docker', docker: { image: TEST_IMAGE, network: 'host', storage: 'image' } });
    });
    afterAll(async () => {
      await engine?.close();
      expect(containersOf(cacheDir)).toEqual([]);
      await freshCacheDir(cacheDir);
      await rm(root, { recursive: true, force: true });
    });

    it("does not reap the other machine's running branch container, whose owner it cannot see", async () => {
      const snap = await engine.snapshot({ name: 'shared-engine', sql: [path.join(root, 'one.sql')] });
      await using branch = await snap.branch();
      const id = branch.containerId!;
      const report = gcOnMachineB();
      expect(report).toMatch(/^pgbranch gc /);
      expect(report).not.toContain('(Docker not reachable');
      expect(containerState(id)).toBe('running');
      expect(await query(branch.url, 'select count(*)::int as n from marks')).toEqual([{ n: 2 }]);

      // Told apart by the cache directory's identity; the path stays on for people.
      const ownId = (await readFile(path.join(cacheDir, 'cache-id'), 'utf8')).trim();
      const labels = JSON.parse(execFileSync('docker', ['inspect', '-f', '{{json .Config.Labels}}', id], { encoding: 'utf8' })) as Record<string, string>;
      expect(labels).toMatchObject({ 'org.pgbranch.cache-dir': cacheDir, 'org.pgbranch.cache-id': ownId });
    });
  });
}
