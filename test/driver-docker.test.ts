import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngine } from '@pgbranch/core';
import { branchingSuite } from './support/branching-suite.js';
import { dockerUnavailable } from './support/docker.js';
import { query } from './support/pg.js';
import { suiteTarget } from './support/suite-target.js';
import { requireAll } from './support/targets.js';

// 'image': snapshots are committed images, branches copy on write in their container layer.
// 'bind': snapshots and branches are host btrfs clones bind-mounted into the containers.
for (const storage of ['image', 'bind'] as const) {
  branchingSuite(suiteTarget({ driver: 'docker', docker: { storage } }), {
    more: (suite) => {
      it('runs each branch as its own container, listening on 127.0.0.1 of the host network', async () => {
        const { snap, cacheDir } = suite();
        await using branch = await snap.branch();
        expect(branch.containerId).toMatch(/^[0-9a-f]{64}$/);
        expect(branch.pid).toBeUndefined();
        expect(branch.url).toMatch(/@127\.0\.0\.1:\d+\/postgres$/);
        expect(await query(branch.url, 'select count(*)::int > 0 as seeded from documents')).toEqual([{ seeded: true }]);
        if (storage === 'image') {
          const images = execFileSync('docker', ['images', '-q', '--filter', `label=org.pgbranch.hash=${snap.hash}`], { encoding: 'utf8' });
          expect(images.trim()).toMatch(/^[0-9a-f]{12}$/);
          expect(branch.dir).toBeUndefined();
        } else {
          expect(branch.dir!.startsWith(cacheDir + '/')).toBe(true);
          expect(existsSync(branch.dir!)).toBe(true);
        }
      });
    },
  });
}

const dockerMissing = dockerUnavailable();
describe.skipIf(dockerMissing && !requireAll())(`docker driver${dockerMissing ? ` (skipped: ${dockerMissing})` : ''}`, () => {
  it('names an image without Postgres in its error', async () => {
    expect(dockerMissing).toBeUndefined();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pgbranch-noimage-'));
    await writeFile(path.join(dir, 'x'), '');
    try {
      await expect(createEngine({ cacheDir: dir, driver: 'docker', docker: { image: 'pgbranch-test/does-not-exist:1', network: 'host' } })).rejects.toThrow(
        /pgbranch-test\/does-not-exist:1 is not present and could not be pulled/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
