import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
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
const otherCacheDir = path.join(root, 'other-cache');
const isRoot = process.getuid?.() === 0;
const unavailable = dockerUnavailable() ?? (isRoot ? undefined : 'a private mount namespace (standing in for another machine) needs root');

/** Labels of a container or image. */
function labelsOf(id: string): Record<string, string> {
  return JSON.parse(execFileSync('docker', ['inspect', '-f', '{{json .Config.Labels}}', id], { encoding: 'utf8' })) as Record<string, string>;
}

/** The image a container runs. */
function imageOf(container: string): string {
  return execFileSync('docker', ['inspect', '-f', '{{.Image}}', container], { encoding: 'utf8' }).trim();
}

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
      await freshCacheDir(otherCacheDir);
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
      expect(labelsOf(id)).toMatchObject({ 'org.pgbranch.cache-dir': cacheDir, 'org.pgbranch.cache-id': expect.stringMatching(/^[0-9a-f]{24}$/) });
    });

    it('shares snapshot images with a copy of the cache directory (same password, so its data opens there) and keeps containers apart', async () => {
      // A copy (say, a CI cache restored elsewhere) has the same password, so the same snapshot hashes and the same
      // snapshot image tags: it starts branches of the image the original committed, in containers of its own.
      await mkdir(otherCacheDir, { recursive: true });
      await cp(path.join(cacheDir, 'secret'), path.join(otherCacheDir, 'secret'));
      const other = await createEngine({ cacheDir: otherCacheDir, driver: 'docker', docker: { image: TEST_IMAGE, network: 'host', storage: 'image' } });
      try {
        const ours = await engine.snapshot({ name: 'shared-engine', sql: [path.join(root, 'one.sql')] });
        const theirs = await other.snapshot({ name: 'shared-engine', sql: [path.join(root, 'one.sql')] });
        expect(theirs.hash).toBe(ours.hash);
        expect(theirs.origin).toBe('cache');
        await using theirBranch = await theirs.branch();
        await using ourBranch = await ours.branch();
        const ourId = labelsOf(ourBranch.containerId!)['org.pgbranch.cache-id'];
        const theirId = labelsOf(theirBranch.containerId!)['org.pgbranch.cache-id'];
        expect(ourId).not.toBe(theirId);
        expect(imageOf(theirBranch.containerId!)).toBe(imageOf(ourBranch.containerId!));
        expect(await query(theirBranch.url, 'select count(*)::int as n from marks')).toEqual([{ n: 2 }]);
        expect(await query(ourBranch.url, 'select count(*)::int as n from marks')).toEqual([{ n: 2 }]);
      } finally {
        await other.close();
        await freshCacheDir(otherCacheDir);
      }
      // The copy's gc left the image it shared.
      expect((await engine.storedSnapshots()).map((s) => s.name)).toContain('shared-engine');
    });
  });
}
