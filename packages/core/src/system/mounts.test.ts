import { describe, expect, it } from 'vitest';
import { mountsUnder } from './mounts.js';

describe('mountsUnder', () => {
  it('reads the mount table on Linux', () => {
    expect(mountsUnder('/', 'linux')).toContain('/');
  });

  it('finds nothing to unmount elsewhere (only Linux cloners mount, and there is no /proc)', () => {
    expect(mountsUnder('/', 'darwin')).toEqual([]);
  });
});
