import { afterEach, describe, expect, it } from 'vitest';
import { resolveOptions } from '../../options.js';
import { publishHostFor, publishHostOf } from './publish-host.js';

describe('publishHostOf: where an engine publishes ports', () => {
  it('is 127.0.0.1 for a local socket or no DOCKER_HOST at all', () => {
    expect(publishHostOf(undefined)).toBe('127.0.0.1');
    expect(publishHostOf('')).toBe('127.0.0.1');
    expect(publishHostOf('unix:///var/run/docker.sock')).toBe('127.0.0.1');
    expect(publishHostOf('npipe:////./pipe/docker_engine')).toBe('127.0.0.1');
  });

  it("is the engine's host for tcp:// and ssh:// engines", () => {
    expect(publishHostOf('tcp://10.1.2.3:2375')).toBe('10.1.2.3');
    expect(publishHostOf('tcp://docker.example.test:2376')).toBe('docker.example.test');
    expect(publishHostOf('ssh://deploy@build-host.example.test')).toBe('build-host.example.test');
    expect(publishHostOf('ssh://deploy@build-host.example.test:2222')).toBe('build-host.example.test');
  });

  it('gives IPv6 hosts without brackets (URLs add them where needed)', () => {
    expect(publishHostOf('tcp://[::1]:2375')).toBe('::1');
    expect(publishHostOf('tcp://[fd00::5]:2375')).toBe('fd00::5');
  });

  it('falls back to 127.0.0.1 for an address it cannot read', () => {
    expect(publishHostOf('tcp://')).toBe('127.0.0.1');
    expect(publishHostOf('not a url')).toBe('127.0.0.1');
  });
});

describe('publishHostFor: the option over the engine address', () => {
  it('takes publishHost when set, whatever the engine address', () => {
    expect(publishHostFor({ dockerHost: 'tcp://10.1.2.3:2375', publishHost: '127.0.0.1' }, {})).toBe('127.0.0.1');
    expect(publishHostFor({ dockerHost: undefined, publishHost: 'vm.example.test' }, {})).toBe('vm.example.test');
  });

  it('derives it from dockerHost, else from DOCKER_HOST', () => {
    expect(publishHostFor({ dockerHost: 'tcp://10.1.2.3:2375', publishHost: undefined }, { DOCKER_HOST: 'tcp://10.9.9.9:2375' })).toBe('10.1.2.3');
    expect(publishHostFor({ dockerHost: undefined, publishHost: undefined }, { DOCKER_HOST: 'ssh://me@far.example.test' })).toBe('far.example.test');
    expect(publishHostFor({ dockerHost: undefined, publishHost: undefined }, {})).toBe('127.0.0.1');
  });
});

describe('resolveOptions: docker.publishHost', () => {
  const saved = process.env.PGBRANCH_DOCKER_PUBLISH_HOST;
  afterEach(() => {
    if (saved === undefined) delete process.env.PGBRANCH_DOCKER_PUBLISH_HOST;
    else process.env.PGBRANCH_DOCKER_PUBLISH_HOST = saved;
  });

  it('is unset by default (then derived from the engine address)', () => {
    delete process.env.PGBRANCH_DOCKER_PUBLISH_HOST;
    expect(resolveOptions().docker.publishHost).toBeUndefined();
  });

  it('takes env PGBRANCH_DOCKER_PUBLISH_HOST, and the option over it', () => {
    process.env.PGBRANCH_DOCKER_PUBLISH_HOST = 'from-env.example.test';
    expect(resolveOptions().docker.publishHost).toBe('from-env.example.test');
    expect(resolveOptions({ docker: { publishHost: 'from-option.example.test' } }).docker.publishHost).toBe('from-option.example.test');
  });

  it('treats an empty env var as unset', () => {
    process.env.PGBRANCH_DOCKER_PUBLISH_HOST = '';
    expect(resolveOptions().docker.publishHost).toBeUndefined();
  });
});
