import os from 'node:os';
import path from 'node:path';
import type { ClonerName } from '@pgbranch/core';

/** A cloner and a cache directory on a filesystem where it can work. */
export interface ClonerTarget {
  cloner: ClonerName;
  /** Cache directory for this target, unique per test file. */
  cacheDir: (file: string) => string;
  /** Why this target cannot run here, or undefined when it can. */
  unavailable?: string;
}

const isRoot = process.getuid?.() === 0;

/** Where each cloner can be tested; CI mounts the XFS and btrfs filesystems (scripts/test-filesystems.sh). */
export function clonerTarget(cloner: ClonerName): ClonerTarget {
  const local = (file: string) => path.join(os.tmpdir(), 'pgbranch-test', cloner, file);
  switch (cloner) {
    case 'copy':
      return { cloner, cacheDir: local };
    case 'overlay':
      return { cloner, cacheDir: local, unavailable: isRoot ? undefined : 'overlay mounts need root' };
    case 'reflink':
      return onMount(cloner, 'PGBRANCH_TEST_REFLINK_DIR', 'a reflink filesystem (XFS with reflink=1)');
    case 'btrfs':
      return onMount(cloner, 'PGBRANCH_TEST_BTRFS_DIR', 'a btrfs filesystem');
  }
}

function onMount(cloner: ClonerName, env: string, what: string): ClonerTarget {
  const root = process.env[env];
  return {
    cloner,
    cacheDir: (file) => path.join(root ?? '', 'pgbranch-test', file),
    unavailable: root ? undefined : `${env} is not set: mount ${what} (sudo scripts/test-filesystems.sh up) and export it`,
  };
}

/**
 * Under CI (PGBRANCH_TEST_REQUIRE=all) a missing requirement fails the suite instead of skipping it,
 * so every strategy is exercised there.
 */
export function requireAll(): boolean {
  return process.env.PGBRANCH_TEST_REQUIRE === 'all';
}
