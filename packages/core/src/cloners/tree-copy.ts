import { constants } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readlink, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import { exec } from '../system/exec.js';
import { cloneTreeApfs } from './apfs-clone.js';
import { giveLinkTo, giveTo, type RunAs } from '../system/run-as.js';

/** How file contents are copied: share extents (reflink) or copy bytes. */
export type CopyMode = 'reflink' | 'bytes';

const IN_FLIGHT = 64;

let gnuCp: Promise<boolean> | undefined;

/** GNU cp clones or copies a ~1,000-file data directory about twice as fast as per-file calls from Node. */
function hasGnuCp(): Promise<boolean> {
  gnuCp ??= exec('cp', ['--version']).then((r) => r.stdout.includes('GNU coreutils'), () => false);
  return gnuCp;
}

/** cp processes run at once for a byte copy: enough to overlap per-file filesystem work on a small machine. */
const CP_PROCESSES = 3;

/**
 * Copies a directory tree with the given content mode, keeping modes and handing everything to the
 * server user. Uses GNU cp where present (it keeps owners when run as root), BSD `cp -c -pR` for
 * APFS clones on macOS, else a Node walk.
 */
export async function copyTree(source: string, target: string, mode: CopyMode, runAs: RunAs): Promise<void> {
  if (mode === 'reflink' && process.platform === 'darwin') {
    await cloneTreeApfs(source, target);
    return giveTo(runAs, target);
  }
  if (!(await hasGnuCp())) return copyTreeByFile(source, target, mode, runAs);
  if (mode === 'reflink') return cloneTreeWithCp(source, target, runAs);
  // Per-file copy cost dominates a ~1,000-file data directory, so the tree is split into
  // units that several cp processes copy at once: each database directory under base/ is one unit.
  const jobs: Array<{ sources: string[]; into: string }> = [];
  const top: string[] = [];
  await makeDirLike(source, target, runAs);
  for (const entry of await readdir(source, { withFileTypes: true })) {
    const from = path.join(source, entry.name);
    const subdirs = entry.isDirectory() ? (await readdir(from, { withFileTypes: true })).filter((e) => e.isDirectory()) : [];
    if (subdirs.length < 2) {
      top.push(from);
      continue;
    }
    const into = path.join(target, entry.name);
    await makeDirLike(from, into, runAs);
    const children = (await readdir(from)).map((name) => path.join(from, name));
    const buckets = Array.from({ length: CP_PROCESSES - 1 }, () => [] as string[]);
    children.forEach((child, i) => buckets[i % buckets.length]!.push(child));
    for (const bucket of buckets) if (bucket.length > 0) jobs.push({ sources: bucket, into });
  }
  if (top.length > 0) jobs.push({ sources: top, into: target });
  await Promise.all(jobs.map((job) => exec('cp', ['-a', '--reflink=never', '--', ...job.sources, job.into])));
}

/**
 * Clones a tree with one GNU cp process. A clone's cost is creating ~1,000 files, which cp does in C at about
 * half the CPU of splitting the tree over several processes (each pays its start, and they contend for the
 * same directories). Only owners are kept (root hands the files to the server user); modes come from the
 * source as any new file's do (masked by the umask), which spares the two ACL calls per file that keeping
 * modes costs, and timestamps and extended attributes, which Postgres never looks at, are not copied.
 */
async function cloneTreeWithCp(source: string, target: string, runAs: RunAs): Promise<void> {
  const keep = runAs.dropped ? ['--preserve=ownership'] : [];
  // The target must not exist yet (cp would copy into it): made here, failing if it does, and filled with -T.
  await mkdir(target, { mode: 0o700 });
  await exec('cp', ['-R', '-T', '--no-dereference', '--reflink=always', ...keep, '--', source, target]);
  await giveTo(runAs, target);
}

async function makeDirLike(source: string, target: string, runAs: RunAs): Promise<void> {
  const st = await stat(source);
  await mkdir(target, { mode: st.mode & 0o7777 });
  await chmod(target, st.mode & 0o7777);
  await giveTo(runAs, target);
}

/** Node-only copy, file by file, up to IN_FLIGHT operations at once. */
export async function copyTreeByFile(source: string, target: string, mode: CopyMode, runAs: RunAs): Promise<void> {
  const flags = mode === 'reflink' ? constants.COPYFILE_FICLONE_FORCE : 0;
  const queue: Array<() => Promise<void>> = [];
  const dirs: Array<[string, string]> = [[source, target]];
  while (dirs.length > 0) {
    const [from, to] = dirs.pop()!;
    const st = await stat(from);
    await mkdir(to, { mode: st.mode & 0o7777 });
    await giveTo(runAs, to);
    for (const entry of await readdir(from, { withFileTypes: true })) {
      const src = path.join(from, entry.name);
      const dst = path.join(to, entry.name);
      if (entry.isDirectory()) dirs.push([src, dst]);
      else if (entry.isSymbolicLink()) queue.push(async () => {
        await symlink(await readlink(src), dst);
        await giveLinkTo(runAs, dst);
      });
      else if (entry.isFile()) queue.push(async () => {
        await copyFile(src, dst, flags);
        await giveTo(runAs, dst);
      });
      // Sockets and other special files (a stale .s.PGSQL lock) are not part of the data.
    }
  }
  await runLimited(queue, IN_FLIGHT);
}

async function runLimited(tasks: Array<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}
