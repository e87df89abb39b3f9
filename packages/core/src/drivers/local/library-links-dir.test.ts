import { chmod, mkdir, mkdtemp, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CacheDirError } from '../../errors.js';
import { ensureLibraryLinks, nativeLayout, type NativeLayout } from './library-links.js';

/** A package as a skipped install script leaves it: versioned libraries, a manifest, no links. */
async function fakePackage(root: string): Promise<NativeLayout> {
  await mkdir(path.join(root, 'native', 'bin'), { recursive: true });
  await mkdir(path.join(root, 'native', 'lib'));
  await writeFile(path.join(root, 'package.json'), JSON.stringify({ version: '18.4.0-beta.17' }));
  for (const lib of ['libicuuc.so.60.2', 'libpq.so.5.18', 'libz.so.1']) await writeFile(path.join(root, 'native', 'lib', lib), lib);
  await writeFile(
    path.join(root, 'native', 'pg-symlinks.json'),
    JSON.stringify([
      { source: 'native/lib/libicuuc.so.60.2', target: 'native/lib/libicuuc.so.60' },
      { source: 'native/lib/libpq.so.5.18', target: 'native/lib/libpq.so.5' },
    ]),
  );
  return (await nativeLayout(path.join(root, 'native', 'bin')))!;
}

describe('ensureLibraryLinks', () => {
  let dir: string;
  let layout: NativeLayout;
  let cache: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pgbranch-links-'));
    layout = await fakePackage(path.join(dir, 'pkg'));
    cache = path.join(dir, 'cache');
    await mkdir(cache);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('makes the missing links, and every library, in a directory of the cache', async () => {
    const links = (await ensureLibraryLinks(layout, cache))!;
    expect(path.dirname(path.dirname(links))).toBe(path.join(cache, 'embedded'));
    expect(path.basename(path.dirname(links))).toMatch(/^18\.4\.0-beta\.17-[0-9a-f]{12}$/);
    expect((await readdir(links)).sort()).toEqual(['libicuuc.so.60', 'libicuuc.so.60.2', 'libpq.so.5', 'libpq.so.5.18', 'libz.so.1']);
    expect(await readlink(path.join(links, 'libpq.so.5'))).toBe(path.join(layout.libDir, 'libpq.so.5.18'));
    expect(await readdir(path.join(cache, 'embedded'))).toHaveLength(1); // no staging directory left
    expect(await ensureLibraryLinks(layout, cache)).toBe(links);
  });

  it('makes nothing when the install script ran', async () => {
    await symlink('libicuuc.so.60.2', path.join(layout.libDir, 'libicuuc.so.60'));
    await symlink('libpq.so.5.18', path.join(layout.libDir, 'libpq.so.5'));
    expect(await ensureLibraryLinks(layout, cache)).toBeUndefined();
    expect(await readdir(cache)).toEqual([]);
  });

  it('replaces links that point elsewhere', async () => {
    const links = (await ensureLibraryLinks(layout, cache))!;
    await rm(path.join(links, 'libpq.so.5'));
    await symlink('/somewhere/else/libpq.so.5', path.join(links, 'libpq.so.5'));
    expect(await ensureLibraryLinks(layout, cache)).toBe(links);
    expect(await readlink(path.join(links, 'libpq.so.5'))).toBe(path.join(layout.libDir, 'libpq.so.5.18'));
    expect(await readdir(path.join(cache, 'embedded'))).toHaveLength(1);
  });

  it('refuses a links directory that others may write', async () => {
    await mkdir(path.join(cache, 'embedded'));
    await chmod(path.join(cache, 'embedded'), 0o777);
    await expect(ensureLibraryLinks(layout, cache)).rejects.toBeInstanceOf(CacheDirError);
  });

  it('does not follow a link put in place of its directory', async () => {
    await mkdir(path.join(dir, 'elsewhere'));
    await symlink(path.join(dir, 'elsewhere'), path.join(cache, 'embedded'));
    await expect(ensureLibraryLinks(layout, cache)).rejects.toThrow(/is not a directory owned by this user/);
    expect(await readdir(path.join(dir, 'elsewhere'))).toEqual([]);
  });
});
