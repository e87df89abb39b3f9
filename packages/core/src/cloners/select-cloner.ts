import { constants } from 'node:fs';
import { copyFile, mkdir, mkdtemp, statfs, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ClonerUnavailableError, describeCause } from '../errors.js';
import { logger } from '../log.js';
import { exec } from '../system/exec.js';
import { probeApfsClone } from './apfs-clone.js';
import { BtrfsCloner } from './btrfs-cloner.js';
import type { Cloner, ClonerName } from './cloner.js';
import { CopyCloner } from './copy-cloner.js';
import { OverlayCloner } from './overlay-cloner.js';
import { ReflinkCloner } from './reflink-cloner.js';
import { removeDir } from './remove-dir.js';

const log = logger('cloner');
const BTRFS_MAGIC = 0x9123683e;

/** The cloner picked for a cache directory and why. */
export interface ClonerChoice {
  cloner: Cloner;
  reason: string;
  /** What every probe answered, best first (for `pgbranch doctor`). */
  probes: ProbeResult[];
}

export interface ProbeResult {
  name: ClonerName;
  ok: boolean;
  reason: string;
}

type Probe = (dir: string) => Promise<string>; // resolves with why it works, rejects with why not

/** Best first: size-independent clones before per-file ones, plain copy last. */
const PROBES: Array<[ClonerName, Probe, () => Cloner]> = [
  ['btrfs', probeBtrfs, () => new BtrfsCloner()],
  ['reflink', probeReflink, () => new ReflinkCloner()],
  ['overlay', probeOverlay, () => new OverlayCloner()],
  ['copy', async () => 'plain copy works everywhere (cost grows with data size)', () => new CopyCloner()],
];

/**
 * The cloners that can exist on a platform, best first. btrfs and overlay are Linux filesystems; on macOS
 * the reflink cloner makes APFS clones (clonefile) and is probed like anywhere else.
 */
export function clonerCandidates(platform: string): ClonerName[] {
  return platform === 'linux' ? ['btrfs', 'reflink', 'overlay', 'copy'] : ['reflink', 'copy'];
}

/** The cloners to probe for a request: every candidate for 'auto', else the one named (none when the platform lacks it). */
export function clonersToProbe(requested: 'auto' | ClonerName, platform: string): ClonerName[] {
  const candidates = clonerCandidates(platform);
  if (requested === 'auto') return candidates;
  return candidates.includes(requested) ? [requested] : [];
}

/**
 * Picks the first probe that worked (probes come best first), or explains why none did. Pure: the tests
 * inject platforms and probe results.
 */
export function pickCloner(
  requested: 'auto' | ClonerName,
  platform: string,
  probes: readonly ProbeResult[],
): { name: ClonerName; reason: string } | { name: undefined; why: string } {
  const ok = probes.find((p) => p.ok);
  if (ok) return { name: ok.name, reason: requested === 'auto' ? `auto: ${ok.reason}` : ok.reason };
  if (requested !== 'auto' && !clonerCandidates(platform).includes(requested)) {
    return { name: undefined, why: `${requested} clones exist only on Linux, and this is ${platform}` };
  }
  return { name: undefined, why: probes.map((p) => `${p.name}: ${p.reason}`).join('; ') || 'nothing was probed' };
}

/**
 * Picks the cloner for `cacheDir`. 'auto' walks the probes best first and takes the first that works;
 * a named cloner is probed and rejected with the reason when it cannot work there.
 */
export async function selectCloner(requested: 'auto' | ClonerName, cacheDir: string): Promise<ClonerChoice> {
  const probes = await probeCloners(cacheDir, clonersToProbe(requested, process.platform), { stopAtFirst: true });
  const pick = pickCloner(requested, process.platform, probes);
  if (pick.name) {
    const make = PROBES.find(([name]) => name === pick.name)![2];
    return { cloner: make(), reason: pick.reason, probes };
  }
  throw new ClonerUnavailableError(
    `The "${requested}" cloner cannot work on ${cacheDir} (${pick.why}). ` +
      "Use cloner: 'auto' (or PGBRANCH_CLONER=auto), or move PGBRANCH_CACHE_DIR to a filesystem that supports it.",
  );
}

/** Runs the named probes (by default every candidate of this platform) in a scratch directory inside `cacheDir` (the filesystem that matters). */
export async function probeCloners(
  cacheDir: string,
  names: readonly ClonerName[] = clonerCandidates(process.platform),
  options: { stopAtFirst?: boolean } = {},
): Promise<ProbeResult[]> {
  await mkdir(cacheDir, { recursive: true });
  const probeRoot = await mkdtemp(path.join(cacheDir, '.probe-'));
  const results: ProbeResult[] = [];
  try {
    for (const [name, probe] of PROBES) {
      if (!names.includes(name)) continue;
      const dir = path.join(probeRoot, name);
      await mkdir(dir);
      try {
        results.push({ name, ok: true, reason: await probe(dir) });
      } catch (err) {
        results.push({ name, ok: false, reason: describeCause(err) });
      }
      log('probe %s: %o', name, results.at(-1));
      if (options.stopAtFirst && results.at(-1)!.ok) break;
    }
    return results;
  } finally {
    await removeDir(probeRoot);
  }
}

async function probeBtrfs(dir: string): Promise<string> {
  const fs = await statfs(dir);
  if (fs.type !== BTRFS_MAGIC) throw new Error('the cache directory is not on btrfs');
  const sub = path.join(dir, 'sub');
  await exec('btrfs', ['subvolume', 'create', sub]);
  await exec('btrfs', ['subvolume', 'snapshot', sub, path.join(dir, 'snap')]);
  return 'the cache directory is on btrfs: subvolume snapshots, independent of size';
}

/** Clones a small file the way the cloner will: FICLONE on Linux, APFS clonefile on macOS. */
async function probeReflink(dir: string): Promise<string> {
  if (process.platform === 'darwin') return probeApfsClone(dir);
  const src = path.join(dir, 'a');
  await writeFile(src, 'probe');
  try {
    await copyFile(src, path.join(dir, 'b'), constants.COPYFILE_FICLONE_FORCE);
  } catch (err) {
    throw new Error(`the filesystem does not support reflinks (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return 'the filesystem supports reflinks (FICLONE): per-file copy-on-write';
}

async function probeOverlay(dir: string): Promise<string> {
  if (process.getuid?.() !== 0) throw new Error('overlay mounts need root');
  const lower = path.join(dir, 'lower');
  const merged = path.join(dir, 'merged');
  await Promise.all(['lower', 'upper', 'work', 'merged'].map((d) => mkdir(path.join(dir, d))));
  await writeFile(path.join(lower, 'f'), 'probe');
  await exec('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${dir}/upper,workdir=${dir}/work`, merged]);
  await writeFile(path.join(merged, 'f'), 'written');
  return 'overlayfs mounts work here (root): O(1) clones, whole-file copy-up on first write';
}
