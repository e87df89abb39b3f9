import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recordedDrivers, writeNamedMeta, type NamedBranchMeta } from './named-record.js';

const root = await mkdtemp(path.join(os.tmpdir(), 'pgbranch-named-record-'));
afterAll(() => rm(root, { recursive: true, force: true }));

async function record(name: string, fields: Partial<NamedBranchMeta>): Promise<void> {
  const dir = path.join(root, name);
  await mkdir(dir, { recursive: true });
  const meta: NamedBranchMeta = { version: 1, name, snapshot: { hash: 'h', name: 's' }, createdAt: '', lastUsedAt: '', labels: {}, port: 1, state: 'running', ...fields };
  await writeNamedMeta(dir, meta);
}

describe('recordedDrivers', () => {
  it('gives one entry per driver and Docker settings, and local for records without a driver or without a record', async () => {
    const image = { image: 'postgres:18', network: 'host' as const, storage: 'image' as const };
    const bind = { ...image, storage: 'bind' as const };
    await record('a', { driver: 'docker', docker: image });
    await record('b', { driver: 'docker', docker: image });
    await record('c', { driver: 'docker', docker: bind });
    await record('d', { driver: 'template' });
    await record('e', {}); // written before drivers were recorded
    await mkdir(path.join(root, 'f')); // creation interrupted: no record
    const found = await recordedDrivers(root);
    expect(found).toHaveLength(4);
    expect(found).toEqual(
      expect.arrayContaining([
        { driver: 'docker', docker: image },
        { driver: 'docker', docker: bind },
        { driver: 'template', docker: undefined },
        { driver: 'local', docker: undefined },
      ]),
    );
  });
});
