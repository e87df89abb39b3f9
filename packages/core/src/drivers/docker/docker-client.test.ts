import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DockerodeMissingError, dockerClientIfInstalled, dockerodeOptions, loadDockerode, type ImportDockerode } from './docker-client.js';

/** The error Node itself gives for `import('dockerode')` in a project that does not have it (a fresh directory). */
function importErrorWithoutDockerode(dir: string): Error {
  const script = "import('dockerode').then(() => console.log('{}'), (e) => console.log(JSON.stringify({ code: e.code, message: e.message })))";
  const { code, message } = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8' }));
  return Object.assign(new Error(message), { code });
}

const failingWith = (err: unknown): ImportDockerode => () => Promise.reject(err);

describe('loading dockerode, an optional peer dependency', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pgbranch-no-dockerode-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('says how to install it when the project does not have it', async () => {
    const notFound = importErrorWithoutDockerode(dir);
    expect((notFound as NodeJS.ErrnoException).code, `dockerode is reachable from ${dir}`).toBe('ERR_MODULE_NOT_FOUND');
    const err = await loadDockerode(failingWith(notFound)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DockerodeMissingError);
    expect(err).toMatchObject({ code: 'PGBRANCH_DOCKERODE_MISSING', cause: notFound });
    expect((err as Error).message).toContain('npm install -D dockerode');
    expect((err as Error).message).toContain('pnpm add -D dockerode');
    expect((err as Error).message).toContain("driver: 'local'");
  });

  it('recognises the CommonJS form of the same error', async () => {
    const notFound = Object.assign(new Error("Cannot find module 'dockerode'\nRequire stack:\n- /app/index.js"), { code: 'MODULE_NOT_FOUND' });
    await expect(loadDockerode(failingWith(notFound))).rejects.toBeInstanceOf(DockerodeMissingError);
  });

  it('keeps the original error when dockerode is installed but one of its own dependencies is missing', async () => {
    const broken = Object.assign(new Error("Cannot find package 'docker-modem' imported from /app/node_modules/dockerode/lib/docker.js"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    await expect(loadDockerode(failingWith(broken))).rejects.toBe(broken);
  });

  it('loads the installed dockerode (a development dependency here)', async () => {
    const Dockerode = await loadDockerode();
    const client = new Dockerode({ socketPath: path.join(dir, 'no-engine.sock') });
    expect(typeof client.ping).toBe('function');
  });

  it('lets gc skip Docker without dockerode, and still reports other failures', async () => {
    expect(await dockerClientIfInstalled(undefined, failingWith(importErrorWithoutDockerode(dir)))).toBeUndefined();
    const broken = new Error('boom');
    await expect(dockerClientIfInstalled(undefined, failingWith(broken))).rejects.toBe(broken);
    expect(await dockerClientIfInstalled(`unix://${path.join(dir, 'no-engine.sock')}`)).toBeDefined();
  });
});

describe('dockerodeOptions: reaching the engine at dockerHost', () => {
  it('leaves DOCKER_HOST (with its TLS and ssh settings) to dockerode when no engine address is given', () => {
    expect(dockerodeOptions(undefined)).toBeUndefined();
    expect(dockerodeOptions('tcp://10.1.2.3:2376', { DOCKER_HOST: 'tcp://10.1.2.3:2376', DOCKER_TLS_VERIFY: '1' })).toBeUndefined();
  });

  it('takes a unix socket path', () => {
    expect(dockerodeOptions('unix:///run/user/1000/docker.sock')).toEqual({ socketPath: '/run/user/1000/docker.sock' });
  });

  it('takes tcp:// engines over http, https:// over https, on port 2375 unless given', () => {
    expect(dockerodeOptions('tcp://10.1.2.3')).toEqual({ host: '10.1.2.3', port: 2375, protocol: 'http' });
    expect(dockerodeOptions('https://docker.example.test:2376')).toEqual({ host: 'docker.example.test', port: 2376, protocol: 'https' });
  });

  it('reaches ssh:// engines over ssh with the ssh agent, as user and port given', () => {
    expect(dockerodeOptions('ssh://deploy@build-host.example.test', { SSH_AUTH_SOCK: '/tmp/agent.sock' })).toEqual({
      protocol: 'ssh',
      host: 'build-host.example.test',
      port: 22,
      username: 'deploy',
      sshOptions: { agent: '/tmp/agent.sock' },
    });
    expect(dockerodeOptions('ssh://build-host.example.test:2222', {})).toMatchObject({ protocol: 'ssh', port: 2222, username: undefined });
  });
});
