import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngine, type ClonerName } from '@pgbranch/core';
import { query } from './support/pg.js';
import { freshCacheDir, mountsUnder, postgresProcessesUnder, repoRoot } from './support/processes.js';
import { clonerTarget, requireAll } from './support/targets.js';

const RECIPE = path.join(repoRoot, 'fixtures/recipes/relay-store');

/** The template server's clone and its CREATE DATABASE copies on each filesystem with clones. */
for (const cloner of ['reflink', 'btrfs'] as ClonerName[]) {
  const target = clonerTarget(cloner);
  const skip = target.unavailable !== undefined && !requireAll();
  describe.skipIf(skip)(`template driver on ${cloner}${skip ? ` (skipped: ${target.unavailable})` : ''}`, () => {
    it('clones the template server, copies databases with file_copy_method = clone, and leaves nothing', async () => {
      expect(target.unavailable).toBeUndefined();
      const cacheDir = target.cacheDir('driver-template');
      await freshCacheDir(cacheDir);
      const engine = await createEngine({ cacheDir, cloner, driver: 'template' });
      let hostDir: string | undefined;
      try {
        expect(engine.info().clonerReason).toMatch(new RegExp(`file_copy_method = clone \\(${cloner}`));
        const snap = await engine.snapshot({ name: 'relay', sql: [RECIPE] });
        await using a = await snap.branch();
        await using b = await snap.branch();
        hostDir = a.dir;
        await query(a.url, 'truncate relay.accounts cascade');
        const counts = await query<{ n: number }>(b.url, 'select count(*)::int as n from relay.accounts');
        expect(counts[0]!.n).toBeGreaterThan(0);
        const url = a.url;
        await a.reset();
        expect(await query(url, 'select count(*)::int as n from relay.accounts')).toEqual(counts);
        expect(await query(url, 'show file_copy_method')).toEqual([{ file_copy_method: 'clone' }]);
      } finally {
        await engine.close();
      }
      expect(postgresProcessesUnder(cacheDir)).toEqual([]);
      expect(mountsUnder(cacheDir)).toEqual([]);
      expect(hostDir && existsSync(hostDir)).toBe(false);
      expect(readdirSync(path.join(cacheDir, 'branches'))).toEqual([]);
      await freshCacheDir(cacheDir);
    });
  });
}
