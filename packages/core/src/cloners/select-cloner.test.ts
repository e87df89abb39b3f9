import { describe, expect, it } from 'vitest';
import type { ProbeResult } from './select-cloner.js';
import { clonerCandidates, clonersToProbe, pickCloner } from './select-cloner.js';

const no = (name: ProbeResult['name'], reason: string): ProbeResult => ({ name, ok: false, reason });
const yes = (name: ProbeResult['name'], reason: string): ProbeResult => ({ name, ok: true, reason });

describe('cloner selection', () => {
  it('probes btrfs, reflink, overlay, copy on Linux and only clones and copy on macOS', () => {
    expect(clonerCandidates('linux')).toEqual(['btrfs', 'reflink', 'overlay', 'copy']);
    expect(clonerCandidates('darwin')).toEqual(['reflink', 'copy']);
    expect(clonersToProbe('auto', 'darwin')).toEqual(['reflink', 'copy']);
    expect(clonersToProbe('overlay', 'darwin')).toEqual([]);
    expect(clonersToProbe('overlay', 'linux')).toEqual(['overlay']);
  });

  it('takes APFS clones on macOS when the probe clones a file', () => {
    expect(pickCloner('auto', 'darwin', [yes('reflink', 'the cache directory is on APFS: clonefile clones, per-file copy-on-write')])).toEqual({
      name: 'reflink',
      reason: 'auto: the cache directory is on APFS: clonefile clones, per-file copy-on-write',
    });
  });

  it('falls back to copy on macOS when the cache directory is not on APFS', () => {
    const probes = [no('reflink', 'the cache directory is on hfs, not APFS'), yes('copy', 'plain copy works everywhere')];
    expect(pickCloner('auto', 'darwin', probes)).toMatchObject({ name: 'copy' });
  });

  it('takes the best Linux probe that worked', () => {
    const probes = [no('btrfs', 'not btrfs'), no('reflink', 'no reflinks'), yes('overlay', 'overlay works')];
    expect(pickCloner('auto', 'linux', probes)).toEqual({ name: 'overlay', reason: 'auto: overlay works' });
  });

  it('says a Linux-only cloner does not exist on macOS', () => {
    expect(pickCloner('btrfs', 'darwin', [])).toEqual({ name: undefined, why: 'btrfs clones exist only on Linux, and this is darwin' });
  });

  it('gives every probe reason when a named cloner cannot work', () => {
    expect(pickCloner('reflink', 'linux', [no('reflink', 'the filesystem does not support reflinks (EOPNOTSUPP)')])).toEqual({
      name: undefined,
      why: 'reflink: the filesystem does not support reflinks (EOPNOTSUPP)',
    });
  });
});
