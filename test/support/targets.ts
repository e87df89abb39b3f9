import os from 'node:os';
import path from 'node:path';
import type { ClonerName } from '@pgbranch/core';

/** A directory tree tests may write below, on a filesystem with some property, or why there is none here. */
export interface TestRoot {
  path: string;
  /** Why this filesystem is missing here, or undefined when it is there. */
  unavailable?: string;
}

const isRoot = process.getuid?.() === 0;

/** Where each cloner can be tested; CI mounts the XFS and btrfs filesystems (scripts/test-filesystems.sh). */
export function clonerRoot(cloner: ClonerName): TestRoot {
  switch (cloner) {
    case 'copy':
      return { path: os.tmpdir() };
    case 'overlay':
      return { path: os.tmpdir(), unavailable: isRoot ? undefined : 'overlay mounts need root' };
    case 'reflink':
      return onMount('PGBRANCH_TEST_REFLINK_DIR', 'a reflink filesystem (XFS with reflink=1)');
    case 'btrfs':
      return onMount('PGBRANCH_TEST_BTRFS_DIR', 'a btrfs filesystem');
  }
}

function onMount(env: string, what: string): TestRoot {
  const root = process.env[env];
  return { path: root ?? '', unavailable: root ? undefined : `${env} is not set: mount ${what} (sudo scripts/test-filesystems.sh up) and export it` };
}

/** A cloner and a cache directory on a filesystem where it can work. */
export interface ClonerTarget {
  cloner: ClonerName;
  /** Cache directory for this target, unique per test file. */
  cacheDir: (file: string) => string;
  /** Why this target cannot run here, or undefined when it can. */
  unavailable?: string;
}

/** A cloner of the local driver with its own cache directories (see clonerRoot). */
export function clonerTarget(cloner: ClonerName): ClonerTarget {
  const root = clonerRoot(cloner);
  return { cloner, cacheDir: (file) => path.join(root.path, 'pgbranch-test', cloner, file), unavailable: root.unavailable };
}

/**
 * Under CI (PGBRANCH_TEST_REQUIRE=all) a missing requirement fails the suite instead of skipping it,
 * so every strategy is exercised there.
 */
export function requireAll(): boolean {
  return process.env.PGBRANCH_TEST_REQUIRE === 'all';
}
