import { describe, expect, it } from 'vitest';
import { serverContainerSpec } from './container-spec.js';

const base = { image: 'postgres:17-alpine', bindir: '/usr/local/bin', user: 'postgres', settings: { fsync: 'off' }, labels: { a: 'b' } };

describe('server container spec', () => {
  it('bridge: publishes 5432 on 127.0.0.1 only, never on all interfaces', () => {
    const spec = serverContainerSpec({ ...base, network: 'bridge', hostPort: 0 });
    expect(spec.HostConfig?.NetworkMode).toBe('bridge');
    expect(spec.HostConfig?.PortBindings).toEqual({ '5432/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
    expect(spec.ExposedPorts).toEqual({ '5432/tcp': {} });
    expect(spec.Cmd).toContain('port=5432');
  });

  it('host: listens on 127.0.0.1 at the chosen port and publishes nothing', () => {
    const spec = serverContainerSpec({ ...base, network: 'host', hostPort: 54321 });
    expect(spec.HostConfig?.NetworkMode).toBe('host');
    expect(spec.HostConfig?.PortBindings).toBeUndefined();
    expect(spec.Cmd).toEqual(expect.arrayContaining(['port=54321', 'listen_addresses=127.0.0.1']));
  });

  it('runs postgres itself as the image user, not the entrypoint, with the settings and labels', () => {
    const spec = serverContainerSpec({ ...base, network: 'host', hostPort: 5000 });
    expect(spec.Entrypoint).toEqual([]);
    expect(spec.Cmd?.slice(0, 3)).toEqual(['/usr/local/bin/postgres', '-D', '/var/lib/pgbranch/data']);
    expect(spec.Cmd).toContain('fsync=off');
    expect(spec.User).toBe('postgres');
    expect(spec.Labels).toEqual({ a: 'b' });
  });

  it('bind-mount storage mounts the host clone as the data directory', () => {
    const spec = serverContainerSpec({ ...base, network: 'host', hostPort: 5000, dataDirOnHost: '/cache/branches/s/b/data' });
    expect(spec.HostConfig?.Binds).toEqual(['/cache/branches/s/b/data:/var/lib/pgbranch/data']);
    expect(serverContainerSpec({ ...base, network: 'host', hostPort: 5000 }).HostConfig?.Binds).toBeUndefined();
  });
});
