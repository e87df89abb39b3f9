import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCacheId, readCacheId } from './cache-id.js';

describe('cache directory identity', () => {
  let dir: string | undefined;
  afterEach(async () => dir && rm(dir, { recursive: true, force: true }));

  it('is made once: concurrent first uses agree on one identity and leave no draft behind', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pgbranch-cache-id-'));
    const file = path.join(dir, 'cache-id');
    expect(await readCacheId(file)).toBe('');
    const ids = await Promise.all(Array.from({ length: 8 }, () => loadCacheId(file)));
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^[0-9a-f]{24}$/);
    expect(await readCacheId(file)).toBe(ids[0]);
    expect(await readdir(dir)).toEqual(['cache-id']);
  });

  it('differs between two cache directories', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pgbranch-cache-id-'));
    expect(await loadCacheId(path.join(dir, 'a'))).not.toBe(await loadCacheId(path.join(dir, 'b')));
  });

  it('differs for a copy of the cache directory on another machine, and is the same for a copy on this one', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pgbranch-cache-id-'));
    const here = await loadCacheId(path.join(dir, 'a'), 'runner-1|m1');
    await cp(path.join(dir, 'a'), path.join(dir, 'copy'));
    expect(await loadCacheId(path.join(dir, 'copy'), 'runner-1|m1')).toBe(here);
    expect(await loadCacheId(path.join(dir, 'copy'), 'runner-2|m1')).not.toBe(here);
    expect(await readCacheId(path.join(dir, 'copy'), 'runner-2|m1')).toBe(await loadCacheId(path.join(dir, 'copy'), 'runner-2|m1'));
  });
});
