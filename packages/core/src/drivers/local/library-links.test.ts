import { describe, expect, it } from 'vitest';
import { libraryPathEnv, linksDirectoryEntries, planLibraryLinks } from './library-links.js';

// Listings and manifests as the 18.4.0-beta.17 packages ship them (native/lib without links, native/pg-symlinks.json).
const LINUX_LIB = [
  'libcrypto.so.1.1', 'libecpg.a', 'libecpg.so.6.18', 'libicudata.so.60.2', 'libicui18n.so.60.2', 'libicuuc.so.60.2',
  'libpq.a', 'libpq.so.5.18', 'libssl.so.1.1', 'libxml2.so.2', 'libz.so.1', 'pkgconfig', 'postgresql',
];
const LINUX_MANIFEST = [
  { source: 'native/lib/libecpg.so.6.18', target: 'native/lib/libecpg.so' },
  { source: 'native/lib/libecpg.so.6.18', target: 'native/lib/libecpg.so.6' },
  { source: 'native/lib/libicudata.so.60.2', target: 'native/lib/libicudata.so' },
  { source: 'native/lib/libicudata.so.60.2', target: 'native/lib/libicudata.so.60' },
  { source: 'native/lib/libicui18n.so.60.2', target: 'native/lib/libicui18n.so' },
  { source: 'native/lib/libicui18n.so.60.2', target: 'native/lib/libicui18n.so.60' },
  { source: 'native/lib/libicuuc.so.60.2', target: 'native/lib/libicuuc.so' },
  { source: 'native/lib/libicuuc.so.60.2', target: 'native/lib/libicuuc.so.60' },
  { source: 'native/lib/libpq.so.5.18', target: 'native/lib/libpq.so' },
  { source: 'native/lib/libpq.so.5.18', target: 'native/lib/libpq.so.5' },
];
const DARWIN_LIB = ['libcrypto.3.dylib', 'libicudata.77.1.dylib', 'libicui18n.77.1.dylib', 'libpq.5.dylib', 'libpq-oauth-18.dylib', 'libzstd.1.5.7.dylib', 'postgresql'];
const DARWIN_MANIFEST = [
  { source: 'native/lib/libcrypto.3.dylib', target: 'native/lib/libcrypto.dylib' },
  { source: 'native/lib/libicudata.77.1.dylib', target: 'native/lib/libicudata.77.dylib' },
  { source: 'native/lib/libicui18n.77.1.dylib', target: 'native/lib/libicui18n.77.dylib' },
  { source: 'native/lib/libicui18n.77.1.dylib', target: 'native/lib/libicui18n.dylib' },
  { source: 'native/lib/libzstd.1.5.7.dylib', target: 'native/lib/libzstd.1.dylib' },
];

describe('planLibraryLinks', () => {
  it('plans every manifest link a skipped install script left out (Linux)', () => {
    expect(planLibraryLinks(LINUX_LIB, LINUX_MANIFEST)).toEqual([
      { name: 'libecpg.so', target: 'libecpg.so.6.18' },
      { name: 'libecpg.so.6', target: 'libecpg.so.6.18' },
      { name: 'libicudata.so', target: 'libicudata.so.60.2' },
      { name: 'libicudata.so.60', target: 'libicudata.so.60.2' },
      { name: 'libicui18n.so', target: 'libicui18n.so.60.2' },
      { name: 'libicui18n.so.60', target: 'libicui18n.so.60.2' },
      { name: 'libicuuc.so', target: 'libicuuc.so.60.2' },
      { name: 'libicuuc.so.60', target: 'libicuuc.so.60.2' },
      { name: 'libpq.so', target: 'libpq.so.5.18' },
      { name: 'libpq.so.5', target: 'libpq.so.5.18' },
    ]);
  });

  it('plans the macOS links by their dylib names', () => {
    expect(planLibraryLinks(DARWIN_LIB, DARWIN_MANIFEST)).toEqual([
      { name: 'libcrypto.dylib', target: 'libcrypto.3.dylib' },
      { name: 'libicudata.77.dylib', target: 'libicudata.77.1.dylib' },
      { name: 'libicui18n.77.dylib', target: 'libicui18n.77.1.dylib' },
      { name: 'libicui18n.dylib', target: 'libicui18n.77.1.dylib' },
      { name: 'libzstd.1.dylib', target: 'libzstd.1.5.7.dylib' },
    ]);
  });

  it('plans nothing when the install script ran (the links are in the listing)', () => {
    const installed = [...LINUX_LIB, ...LINUX_MANIFEST.map((e) => e.target.slice('native/lib/'.length))];
    expect(planLibraryLinks(installed, LINUX_MANIFEST)).toEqual([]);
  });

  it('plans only the links that are missing, and none to a file that is not there', () => {
    const partial = [...LINUX_LIB.filter((f) => f !== 'libpq.so.5.18'), 'libicui18n.so.60', 'libicuuc.so.60', 'libicudata.so.60'];
    expect(planLibraryLinks(partial, LINUX_MANIFEST).map((l) => l.name)).toEqual(['libecpg.so', 'libecpg.so.6', 'libicudata.so', 'libicui18n.so', 'libicuuc.so']);
  });

  it('derives the links from versioned file names when there is no manifest', () => {
    expect(planLibraryLinks(['libicuuc.so.60.2', 'libz.so.1', 'libfoo.a', 'libbar.3.1.dylib', 'libpq-oauth-18.dylib'], undefined)).toEqual([
      { name: 'libbar.3.dylib', target: 'libbar.3.1.dylib' },
      { name: 'libbar.dylib', target: 'libbar.3.1.dylib' },
      { name: 'libicuuc.so.60', target: 'libicuuc.so.60.2' },
      { name: 'libicuuc.so', target: 'libicuuc.so.60.2' },
      { name: 'libz.so', target: 'libz.so.1' },
    ]);
  });
});

describe('linksDirectoryEntries', () => {
  it("holds the missing links and every shared library, so $ORIGIN lookups from the links directory find them", () => {
    const plan = planLibraryLinks(LINUX_LIB, LINUX_MANIFEST);
    const entries = linksDirectoryEntries(LINUX_LIB, plan);
    expect(entries.slice(0, plan.length)).toEqual(plan);
    expect(entries.slice(plan.length).map((e) => e.name)).toEqual([
      'libcrypto.so.1.1', 'libecpg.so.6.18', 'libicudata.so.60.2', 'libicui18n.so.60.2', 'libicuuc.so.60.2', 'libpq.so.5.18', 'libssl.so.1.1', 'libxml2.so.2', 'libz.so.1',
    ]);
    expect(entries.slice(plan.length).every((e) => e.name === e.target)).toBe(true);
  });
});

describe('libraryPathEnv', () => {
  it('uses LD_LIBRARY_PATH on Linux (searched before the binaries\' RUNPATH)', () => {
    expect(libraryPathEnv('linux', '/c/embedded/x/lib')).toEqual({ LD_LIBRARY_PATH: '/c/embedded/x/lib' });
  });

  it('uses DYLD_FALLBACK_LIBRARY_PATH on macOS and keeps its default directories', () => {
    expect(libraryPathEnv('darwin', '/c/embedded/x/lib')).toEqual({ DYLD_FALLBACK_LIBRARY_PATH: '/c/embedded/x/lib:/usr/local/lib:/usr/lib' });
  });
});
