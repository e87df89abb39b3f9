import { describe, expect, it } from 'vitest';
import { filesystemTypeAt } from './apfs-clone.js';

// Output shapes of macOS df -P and mount.
const MOUNT = [
  '/dev/disk3s1s1 on / (apfs, sealed, local, read-only, journaled)',
  'devfs on /dev (devfs, local, nobrowse)',
  '/dev/disk3s5 on /System/Volumes/Data (apfs, local, journaled, nobrowse, protect)',
  '/dev/disk5s1 on /Volumes/Old Disk (hfs, local, nodev, nosuid, journaled)',
].join('\n');

describe('filesystemTypeAt', () => {
  it('finds APFS for a directory on the data volume', () => {
    const df = 'Filesystem   512-blocks      Used Available Capacity  Mounted on\n/dev/disk3s5  965595304 612345680 330000000    65%    /System/Volumes/Data\n';
    expect(filesystemTypeAt(df, MOUNT)).toBe('apfs');
  });

  it('finds HFS+ on a mount point with a space in its name', () => {
    const df = 'Filesystem 512-blocks Used Available Capacity Mounted on\n/dev/disk5s1 1000000 5000 995000 1% /Volumes/Old Disk\n';
    expect(filesystemTypeAt(df, MOUNT)).toBe('hfs');
  });

  it('knows nothing from output it cannot read', () => {
    expect(filesystemTypeAt('df: /nope: No such file or directory', MOUNT)).toBeUndefined();
  });
});
