import { describe, expect, it } from 'vitest';
import { assertUmaskLetsServersIn, processUmask } from './umask.js';

describe('umask check for servers run as another account', () => {
  it('accepts the usual umasks, which leave others read and search', () => {
    for (const umask of [0o022, 0o002, 0o000, 0o022 | 0o200]) expect(() => assertUmaskLetsServersIn('pgb-1', umask)).not.toThrow();
  });

  it('refuses a umask that takes read or search from others, naming it and the fix', () => {
    for (const umask of [0o077, 0o027, 0o007]) {
      expect(() => assertUmaskLetsServersIn('pgb-1', umask)).toThrow(new RegExp(`umask 0${umask.toString(8).padStart(3, '0')}.*"pgb-1".*umask 022`));
    }
  });

  it.runIf(process.platform === 'linux')('reads this process umask without changing it', () => {
    const before = processUmask();
    expect(before).toBeTypeOf('number');
    expect(processUmask()).toBe(before);
  });
});
