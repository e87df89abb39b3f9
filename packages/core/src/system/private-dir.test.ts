import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freshPrivateDir, isOwnDir, ownDir, privateDir } from './private-dir.js';

describe('private directories', () => {
  let scratch: string;
  beforeEach(() => {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'pgbranch-private-dir-'));
  });
  afterEach(() => rmSync(scratch, { recursive: true, force: true }));

  it('refuses a symlink where the directory goes, and leaves its target as it was', async () => {
    const victim = path.join(scratch, 'victim');
    mkdirSync(victim);
    chmodSync(victim, 0o755);
    symlinkSync(victim, path.join(scratch, 'run'));
    await expect(privateDir(path.join(scratch, 'run'), 0o700)).rejects.toMatchObject({ code: 'PGBRANCH_UNSAFE_PATH' });
    expect(statSync(victim).mode & 0o7777).toBe(0o755);
  });

  it('refuses a directory whose parent anyone can write to (someone could swap it)', async () => {
    const open = path.join(scratch, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    await expect(privateDir(path.join(open, 'run'), 0o700)).rejects.toMatchObject({ code: 'PGBRANCH_UNSAFE_PATH' });
  });

  it('makes, reuses and sets the mode of its own directory', async () => {
    const dir = path.join(scratch, 'run');
    await privateDir(dir, 0o700);
    chmodSync(dir, 0o777);
    await privateDir(dir, 0o700);
    expect(statSync(dir).mode & 0o7777).toBe(0o700);
    await ownDir(dir, 0o711);
    expect(statSync(dir).mode & 0o7777).toBe(0o711);
  });

  it('makes fresh directories with unpredictable names, and tells its own from others', async () => {
    const a = await freshPrivateDir(scratch, 'x-', 0o711);
    const b = await freshPrivateDir(scratch, 'x-', 0o711);
    expect(a).not.toBe(b);
    expect(await isOwnDir(a)).toBe(true);
    chmodSync(b, 0o777);
    expect(await isOwnDir(b)).toBe(false);
    symlinkSync(a, path.join(scratch, 'link'));
    expect(await isOwnDir(path.join(scratch, 'link'))).toBe(false);
  });
});
