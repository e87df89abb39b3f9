import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerUnavailable } from './support/docker.js';
import { authRegistry, dockerB, registry, requireAll } from './support/targets.js';

// The stand-in fleet itself (scripts/test-registry.sh, scripts/test-docker-b.sh): both engines push to and pull from
// the loopback registries (no TLS setting needed on 127.0.0.0/8), and the protected one asks for credentials.
const open = registry();
const protectedRegistry = authRegistry();
const engineB = dockerB();
const unavailable = open.unavailable ?? protectedRegistry.unavailable ?? engineB.unavailable ?? dockerUnavailable();
const repo = `fleet-check-${randomBytes(4).toString('hex')}`;

/** `docker …` on an engine (undefined: the default one), with an optional client configuration directory. */
function docker(host: string | undefined, args: string[], config?: string): { status: number; out: string } {
  const env = { ...process.env, DOCKER_HOST: host ?? '', ...(config ? { DOCKER_CONFIG: config } : {}) };
  const run = spawnSync('docker', args, { encoding: 'utf8', env, timeout: 120_000 });
  return { status: run.status ?? -1, out: `${run.stdout}${run.stderr}` };
}

function imageId(host: string | undefined, ref: string): string {
  return docker(host, ['image', 'inspect', '-f', '{{.Id}}', ref]).out.trim();
}

function get(url: string): Promise<{ status: number; challenge?: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      res.resume();
      resolve({ status: res.statusCode!, challenge: res.headers['www-authenticate'] });
    }).on('error', reject);
  });
}

if (unavailable && !requireAll()) {
  describe.skip(`the stand-in fleet (skipped: ${unavailable})`, () => it('needs the test registries and engine B', () => undefined));
} else {
  describe('the stand-in fleet: two engines and two registries on loopback', () => {
    let dir: string;
    const a = (tag: string) => `${open.address}/${repo}:${tag}`;
    const made: Array<[string | undefined, string]> = [];

    beforeAll(async () => {
      if (unavailable) throw new Error(`PGBRANCH_TEST_REQUIRE=all but ${unavailable}`);
      dir = await mkdtemp(path.join(os.tmpdir(), 'pgbranch-fleet-'));
      await mkdir(path.join(dir, 'root'));
      await writeFile(path.join(dir, 'root', 'hello.txt'), `fleet ${repo}\n`);
      execFileSync('tar', ['-cf', path.join(dir, 'image.tar'), '-C', path.join(dir, 'root'), 'hello.txt']);
    });
    afterAll(async () => {
      for (const [host, ref] of made) docker(host, ['rmi', '-f', ref]);
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('moves an image from the default engine to engine B and back through the open registry, IDs unchanged', () => {
      made.push([undefined, a('one')], [engineB.address, a('one')], [engineB.address, a('two')], [undefined, a('two')]);
      expect(docker(undefined, ['import', path.join(dir, 'image.tar'), a('one')]).status).toBe(0);
      const id = imageId(undefined, a('one'));
      expect(docker(undefined, ['push', '-q', a('one')])).toMatchObject({ status: 0 });
      expect(docker(engineB.address, ['pull', '-q', a('one')])).toMatchObject({ status: 0 });
      expect(imageId(engineB.address, a('one'))).toBe(id);
      expect(docker(engineB.address, ['tag', a('one'), a('two')]).status).toBe(0);
      expect(docker(engineB.address, ['push', '-q', a('two')])).toMatchObject({ status: 0 });
      expect(docker(undefined, ['pull', '-q', a('two')])).toMatchObject({ status: 0 });
      expect(imageId(undefined, a('two'))).toBe(id);
    });

    it('asks for credentials at the protected registry (401), and takes a push once logged in', async () => {
      expect(await get(`http://${protectedRegistry.address}/v2/`)).toMatchObject({ status: 401, challenge: expect.stringMatching(/^Basic realm=/) });
      const ref = `${protectedRegistry.address}/${repo}:one`;
      made.push([engineB.address, ref]);
      expect(docker(engineB.address, ['import', path.join(dir, 'image.tar'), ref]).status).toBe(0);
      const config = path.join(dir, 'docker-config');
      await mkdir(config);
      const refused = docker(engineB.address, ['push', ref], config);
      expect(refused.status).not.toBe(0);
      expect(refused.out).toMatch(/no basic auth credentials|unauthorized/);
      const login = spawnSync('docker', ['login', '-u', protectedRegistry.user, '--password-stdin', protectedRegistry.address], {
        input: protectedRegistry.password,
        encoding: 'utf8',
        env: { ...process.env, DOCKER_HOST: engineB.address, DOCKER_CONFIG: config },
      });
      expect(login.status, login.stderr).toBe(0);
      expect(docker(engineB.address, ['push', '-q', ref], config)).toMatchObject({ status: 0 });
    });
  });
}
