import { describe, expect, it } from 'vitest';
import { envFor, LeaseEnv } from './lease-env.js';
import type { LeaseInfo } from '../server/protocol.js';

const lease = (port: number): LeaseInfo => ({
  leaseId: `l${port}`,
  key: 'default',
  branch: `b${port}`,
  url: `postgresql://postgres:pw@127.0.0.1:${port}/postgres`,
  host: '127.0.0.1',
  port,
  user: 'postgres',
  password: 'pw',
  database: 'postgres',
  waitedMs: 0,
});

describe('lease environment', () => {
  it("sets DATABASE_URL and PG* with 'all' (the default), the URL alone with 'url', or another name", () => {
    expect(Object.keys(envFor(lease(1)))).toEqual(['DATABASE_URL', 'PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE']);
    expect(envFor(lease(1), 'url')).toEqual({ DATABASE_URL: lease(1).url });
    expect(envFor(lease(1), { url: 'TEST_DATABASE_URL', pg: false })).toEqual({ TEST_DATABASE_URL: lease(1).url });
    expect(envFor(lease(1), { url: 'TEST_DATABASE_URL' }).PGPORT).toBe('1');
  });

  it('removes what the previous lease set when switching, and leaves what the file changed', () => {
    const target: NodeJS.ProcessEnv = { PATH: '/bin' };
    const env = new LeaseEnv(target, 'all');
    env.use(lease(1));
    expect(target.PGPORT).toBe('1');
    target.PGDATABASE = 'other'; // the file's own choice
    env.use(lease(2));
    expect(target.PGPORT).toBe('2');
    expect(target.DATABASE_URL).toBe(lease(2).url);
    env.clear();
    expect(target).toEqual({ PATH: '/bin' });
  });

  it("with 'url', a file that deletes DATABASE_URL keeps no PG* that would still reach the branch", () => {
    const target: NodeJS.ProcessEnv = {};
    const env = new LeaseEnv(target, 'url');
    env.use(lease(1));
    delete target.DATABASE_URL;
    env.use(lease(2));
    expect(target).toEqual({ DATABASE_URL: lease(2).url });
  });
});
