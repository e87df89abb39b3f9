import type { RunAs } from '../system/run-as.js';
import { readdir, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { exec } from '../system/exec.js';
import { logger } from '../log.js';

const log = logger('cloner');

const XFS_MAGIC = 0x58465342;

/** Postgres writes whole 8 KiB pages: the copy-on-write unit a branch's small updates need. */
const POSTGRES_PAGE = 8192;

/** False once xfs_io was found missing: later sources are not walked for nothing. */
let xfsIoFound = true;

/** Sources already given the hint by this process (a promise, so concurrent clones wait for one run). */
const hinted = new Map<string, Promise<void>>();

/**
 * Gives every file of a clone source on XFS a copy-on-write extent size hint of one Postgres page, once per
 * source and process. A reflink copies the hint of its source file, so every clone made afterwards has it.
 *
 * Why: writing a shared block, XFS allocates new space around it in units of this hint (default 32 blocks,
 * 128 KiB with 4 KiB blocks) and keeps the unwritten rest allocated until it reclaims it, so a branch updating
 * scattered rows of a big table takes up to 16 times the space of the pages it wrote (178 MB instead of 20 MB
 * for 0.1 % of the rows of a 1 GB table). With one page per unit it takes what it wrote. The hint is inode metadata: it changes no data of the source.
 * Best effort: without xfs_io, or when it fails, clones still work with the default.
 */
export async function hintCowExtentSize(source: string, runAs?: RunAs): Promise<void> {
  // A source rebuilt at the same path (a snapshot made again after gc) is another directory: hint it again.
  const st = await stat(source);
  const key = `${source}\0${st.ino}\0${st.birthtimeMs}`;
  let done = hinted.get(key);
  if (!done) {
    done = setHint(source, runAs);
    hinted.set(key, done);
  }
  return done;
}

async function setHint(source: string, runAs: RunAs | undefined): Promise<void> {
  const fs = await statfs(source).catch(() => undefined);
  if (!fs || fs.type !== XFS_MAGIC || !xfsIoFound) return;
  // The hint must be a multiple of the block size: a page, or one block where blocks are bigger.
  const size = Math.ceil(POSTGRES_PAGE / fs.bsize) * fs.bsize;
  const paths = await filesAndDirs(source).catch((err: Error) => {
    log('copy-on-write extent size hint not set on %s: %s', source, err.message);
    return [];
  });
  for (let i = 0; i < paths.length; i += PATHS_PER_RUN) {
    try {
      // As the files' owner (who may set the hint), never as root: a file of a branch's tree could be swapped for a
      // symlink between the walk and xfs_io's open, and root would then open whatever it points at.
      await exec('xfs_io', ['-c', `cowextsize ${size}`, '--', ...paths.slice(i, i + PATHS_PER_RUN)], runAs?.dropped ? { uid: runAs.uid, gid: runAs.gid } : {});
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        xfsIoFound = false;
        log('xfs_io (xfsprogs) not found: XFS clones keep the default copy-on-write extent size, so a small update unshares more');
      } else log('copy-on-write extent size hint not set on %s: %s', source, (err as Error).message);
      return;
    }
  }
}

/** Paths per xfs_io run: it opens them all at once, so well below common open-file limits (1,024). */
const PATHS_PER_RUN = 500;

/**
 * The directories and regular files below `dir`, itself included. Symlinks are left out: xfs_io's own -R opens
 * them, which would give the hint to whatever a link in the tree (a tablespace) points at.
 */
async function filesAndDirs(dir: string): Promise<string[]> {
  const found = [dir];
  const dirs = [dir];
  for (let current = dirs.pop(); current !== undefined; current = dirs.pop()) {
    for (const e of await readdir(current, { withFileTypes: true })) {
      const child = path.join(current, e.name);
      if (e.isDirectory()) dirs.push(child);
      if (e.isDirectory() || e.isFile()) found.push(child);
    }
  }
  return found;
}
