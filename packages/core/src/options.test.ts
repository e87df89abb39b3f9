import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveOptions } from './options.js';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe('resolveOptions', () => {
  it('defaults to auto cloning in node_modules/.cache/pgbranch of the nearest package', () => {
    delete process.env.PGBRANCH_CACHE_DIR;
    delete process.env.PGBRANCH_CLONER;
    const r = resolveOptions();
    expect(r.cloner).toBe('auto');
    expect(r.cacheDir.endsWith(path.join('node_modules', '.cache', 'pgbranch'))).toBe(true);
    expect(r.reap).toBe(true);
  });

  it('takes env vars, and options over env vars', () => {
    process.env.PGBRANCH_CACHE_DIR = '/tmp/from-env';
    process.env.PGBRANCH_CLONER = 'copy';
    expect(resolveOptions()).toMatchObject({ cacheDir: '/tmp/from-env', cloner: 'copy' });
    expect(resolveOptions({ cacheDir: '/tmp/opt', cloner: 'reflink' })).toMatchObject({ cacheDir: '/tmp/opt', cloner: 'reflink' });
  });

  it('renders settings as Postgres strings', () => {
    expect(resolveOptions({ postgres: { settings: { fsync: true, max_connections: 20, TimeZone: 'UTC' } } }).settings).toEqual({
      fsync: 'on',
      max_connections: '20',
      TimeZone: 'UTC',
    });
  });

  it('rejects an unknown cloner with the list of known ones', () => {
    expect(() => resolveOptions({ cloner: 'zfs' as never })).toThrow(/auto, btrfs, reflink, overlay, copy/);
  });
});
