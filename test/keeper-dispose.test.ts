import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, Keeper } from '@pgbranch/core';
import { freshCacheDir, runScript } from './support/processes.js';

describe('Keeper is AsyncDisposable', () => {
  const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'keeper-dispose');
  beforeAll(() => freshCacheDir(cacheDir));
  afterAll(() => freshCacheDir(cacheDir));

  it('stops looking after the cache directory at the end of an `await using` scope: another process may keep it then', async () => {
    await using engine = await createEngine({ cacheDir });
    {
      await using keeper = new Keeper(engine, { intervalMs: 100 });
      await keeper.start();
      await expect(runScript('start-keeper.mjs', [cacheDir]).done).rejects.toThrow(/Another keeper \(pid \d+/);
    }
    expect(await runScript('start-keeper.mjs', [cacheDir]).done).toEqual({ started: true });
  });
});
