import { describe, expect, it } from 'vitest';
import { copyStrategy } from './copy-strategy.js';

describe('copyStrategy', () => {
  it('clones files on PostgreSQL 18 where the filesystem clones, and on Linux anywhere (copy_file_range)', () => {
    expect(copyStrategy(18, 'btrfs', 'linux')).toMatchObject({ clause: ' STRATEGY FILE_COPY', settings: { file_copy_method: 'clone' } });
    expect(copyStrategy(18, 'reflink', 'darwin')).toMatchObject({ settings: { file_copy_method: 'clone' } });
    expect(copyStrategy(18, 'overlay', 'linux').settings).toEqual({ file_copy_method: 'clone' });
    expect(copyStrategy(18, 'copy', 'darwin').settings).toEqual({});
  });

  it('copies files before 18, without a STRATEGY clause before 15', () => {
    expect(copyStrategy(17, 'btrfs', 'linux')).toMatchObject({ clause: ' STRATEGY FILE_COPY', settings: {} });
    expect(copyStrategy(14, 'reflink', 'linux')).toMatchObject({ clause: '', settings: {} });
  });
});
