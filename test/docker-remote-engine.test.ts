import { execFileSync } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '@pgbranch/core';
import { TEST_IMAGE } from './support/docker.js';
import { query } from './support/pg.js';
import { cli, freshCacheDir, runScript } from './support/processes.js';
import { dockerB, requireAll } from './support/targets.js';
import { waitUntil } from './support/wait.js';

// Engine B (scripts/test-docker-b.sh) stands in for a Docker engine on another machine, reached over tcp://.
// Nothing here may touch the default engine: it is checked for containers and images of this cache directory.
const engineB = dockerB();
const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'docker-remote-engine');
const sql = path.join(os.tmpdir(), 'pgbranch-test', 'docker-remote-engine.sql');
const port = engineB.address ? new URL(engineB.address.replace(/^tcp:/, 'http:')).port : '';
// Named "localhost" rather than 127.0.0.1, so that the URL shows the host it was derived from.
const dockerHost = `tcp://localhost:${port}`;
const docker = { dockerHost, image: TEST_IMAGE, network: 'host' as const, storage: 'image' as const };

/** Container or image IDs of this cache directory on an engine (undefined: the default one). */
function labelled(kind: 'ps' | 'images', host?: string): string[] {
  const args = kind === 'ps' ? ['ps', '-aq'] : ['images', '-q'];
  const env = host ? { ...process.env, DOCKER_HOST: host } : { ...process.env, DOCKER_HOST: '' };
  return execFileSync('docker', [...args, '--filter', `label=org.pgbranch.cache-dir=${cacheDir}`], { encoding: 'utf8', env }).split('\n').filter(Boolean);
}

if (engineB.unavailable && !requireAll()) {
  describe.skip(`docker driver on a remote engine (skipped: ${engineB.unavailable})`, () => it('needs engine B', () => undefined));
} else {
  describe('docker driver on a remote engine (tcp://)', () => {
    beforeAll(async () => {
      if (engineB.unavailable) throw new Error(`PGBRANCH_TEST_REQUIRE=all but ${engineB.unavailable}`);
      await freshCacheDir(cacheDir);
      await writeFile(sql, 'create table marks (id int primary key, note text); insert into marks select g, md5(g::text) from generate_series(1, 50) g;');
      expect(labelled('ps')).toEqual([]);
      expect(labelled('images')).toEqual([]);
    });
    afterAll(async () => {
      if (engineB.unavailable) return;
      cli(['gc', '--cache-dir', cacheDir, '--keep', '0'], { DOCKER_HOST: engineB.address });
      expect(labelled('ps', engineB.address)).toEqual([]);
      expect(labelled('images', engineB.address)).toEqual([]);
      // The default engine saw nothing of all this.
      expect(labelled('ps')).toEqual([]);
      expect(labelled('images')).toEqual([]);
      await freshCacheDir(cacheDir);
      await rm(sql, { force: true });
    });

    it('seeds, branches and serves on the remote engine, at its publish host, and leaves nothing there on close', async () => {
      const engine = await createEngine({ cacheDir, driver: 'docker', docker });
      let containerId: string;
      try {
        const snap = await engine.snapshot({ name: 'remote', sql: [sql] });
        expect(labelled('images', engineB.address)).toHaveLength(2); // the base snapshot and this one
        await using branch = await snap.branch();
        containerId = branch.containerId!;
        expect(new URL(branch.url).hostname).toBe('localhost');
        await query(branch.url, 'delete from marks where id > 10');
        expect(await query(branch.url, 'select count(*)::int as n from marks')).toEqual([{ n: 10 }]);
        expect(labelled('ps', engineB.address)).toEqual([containerId.slice(0, 12)]);
        await using sibling = await snap.branch();
        expect(await query(sibling.url, 'select count(*)::int as n from marks')).toEqual([{ n: 50 }]);
      } finally {
        await engine.close();
      }
      expect(labelled('ps', engineB.address)).toEqual([]);
      expect(labelled('ps')).toEqual([]);
    });

    it('keeps a named branch on the engine it was made on: the CLI reaches it there without DOCKER_HOST', async () => {
      const engine = await createEngine({ cacheDir, driver: 'docker', docker });
      try {
        const snap = await engine.snapshot({ name: 'remote', sql: [sql] });
        await engine.named().create('far', snap);
        await engine.named().create('older', snap, { start: false });
      } finally {
        await engine.close();
      }
      // A record written before engines were recorded: listed once all the same, though two engine groups see it.
      const older = path.join(cacheDir, 'named', 'older', 'branch.json');
      const record = JSON.parse(await readFile(older, 'utf8')) as { docker: { dockerHost?: string } };
      delete record.docker.dockerHost;
      await writeFile(older, JSON.stringify(record));
      const listed = JSON.parse(cli(['ls', '--json', '--cache-dir', cacheDir], { DOCKER_HOST: engineB.address })) as Array<{ name: string; state: string }>;
      expect(listed.map((b) => [b.name, b.state])).toEqual([
        ['far', 'running'],
        ['older', 'suspended'],
      ]);
      expect(cli(['rm', 'older', '--cache-dir', cacheDir], { DOCKER_HOST: engineB.address })).toContain('removed older');
      const [container] = labelled('ps', engineB.address);
      expect(container).toBeDefined();
      const plain = { DOCKER_HOST: '' }; // another shell: the engine's address comes from the branch's record
      const url = cli(['url', 'far', '--cache-dir', cacheDir], plain).trim();
      expect(new URL(url).hostname).toBe('localhost');
      expect(await query(url, 'select count(*)::int as n from marks')).toEqual([{ n: 50 }]);
      expect(cli(['suspend', 'far', '--cache-dir', cacheDir], plain)).toMatch(/far: suspended/);
      expect(cli(['resume', 'far', '--cache-dir', cacheDir], plain)).toMatch(/far: running/);
      expect(cli(['gc', '--cache-dir', cacheDir], plain)).not.toContain('Docker not reachable');
      expect(labelled('ps', engineB.address)).toEqual([container]);

      // An engine on the default Docker engine neither lists the branch nor acts on it (it would look gone there).
      const local = await createEngine({ cacheDir, driver: 'docker', docker: { ...docker, dockerHost: undefined }, reap: false });
      try {
        expect(await local.named().list()).toEqual([]);
        await expect(local.named().suspend('far')).rejects.toThrow(`Branch "far" runs on the Docker engine at ${dockerHost}`);
        await expect(local.named().destroy('far')).rejects.toThrow(/runs on the Docker engine at/);
      } finally {
        await local.close();
      }
      expect(labelled('ps', engineB.address)).toEqual([container]);
      expect(cli(['rm', 'far', '--cache-dir', cacheDir], plain)).toContain('removed far');
      expect(labelled('ps', engineB.address)).toEqual([]);
      expect(labelled('ps')).toEqual([]);
    });

    it('`pgbranch doctor` asks the remote engine itself', () => {
      const report = JSON.parse(cli(['doctor', '--json', '--cache-dir', cacheDir], { DOCKER_HOST: engineB.address })) as { checks: Array<{ name: string; ok: boolean; detail: string }> };
      expect(report.checks.find((c) => c.name === 'docker')).toEqual({ name: 'docker', ok: true, detail: `engine answers at ${engineB.address}` });
    });

    it("`pgbranch gc` with DOCKER_HOST reaps a killed owner's containers and images on that engine", async () => {
      const holder = runScript('hold-branches.mjs', [JSON.stringify({ cacheDir, driver: 'docker', docker }), '2', sql], { untilLine: (l) => l.ready === true });
      const held = (await holder.done) as { branches: Array<{ containerId: string }> };
      const ids = held.branches.map((b) => b.containerId.slice(0, 12));
      holder.child.kill('SIGKILL');
      await waitUntil(() => holder.child.exitCode !== null || holder.child.signalCode !== null);
      expect(labelled('ps', engineB.address).sort()).toEqual(ids.sort());
      const ephemeral = () =>
        execFileSync('docker', ['images', '-q', '--filter', `label=org.pgbranch.cache-dir=${cacheDir}`, '--filter', 'label=org.pgbranch.ephemeral-owner'], {
          encoding: 'utf8',
          env: { ...process.env, DOCKER_HOST: engineB.address },
        }).trim();
      expect(ephemeral()).not.toBe('');

      // Without DOCKER_HOST, gc looks at the default engine: B's containers are not there to reap.
      cli(['gc', '--driver', 'docker', '--cache-dir', cacheDir], { DOCKER_HOST: '' });
      expect(labelled('ps', engineB.address).sort()).toEqual(ids.sort());

      const report = cli(['gc', '--driver', 'docker', '--cache-dir', cacheDir], { DOCKER_HOST: engineB.address });
      expect(report).toMatch(/stopped 2 servers/);
      expect(labelled('ps', engineB.address)).toEqual([]);
      expect(ephemeral()).toBe('');
      expect(labelled('ps')).toEqual([]);
    });
  });
}
