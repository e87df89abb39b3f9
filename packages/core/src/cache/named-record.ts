import { readFileSync } from 'node:fs';
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { assertName, NAME_PATTERN } from '../snapshot/snapshot-names.js';

/** What is persisted about a named branch, in `<cache>/named/<name>/branch.json`. */
export interface NamedBranchMeta {
  version: 1;
  name: string;
  /** The snapshot the branch's data came from (directly, or through `fromBranch`). */
  snapshot: { hash: string; name: string };
  /** Set when the branch was made from another named branch. */
  fromBranch?: string;
  /** The snapshot was frozen for this branch alone (a kept Docker branch): removed with the branch. */
  ownSnapshot?: boolean;
  /**
   * When the branch's data last came from its snapshot (created, reset, fast-forwarded; absent: createdAt). Snapshots
   * frozen from the branch after this are ancestors of its data (a diff or merge may compare against them).
   */
  dataSince?: string;
  createdAt: string;
  /** Last time a client was seen connected (or the branch was created, resumed or reset). */
  lastUsedAt: string;
  /** After this the branch is removed by `pgbranch gc` or the keeper. */
  expiresAt?: string;
  labels: Record<string, string>;
  /** The branch's URL port, kept for its whole life. */
  port: number;
  /**
   * `creating` until the clone is complete (a crash then leaves a branch gc removes);
   * `running` while a server is meant to run; `suspended` when stopped on purpose; `resetting` while the data
   * is replaced by a fresh clone (a crash then is finished by the next resume); `removing` from the start of a
   * removal (a crash then leaves a branch gc finishes removing, never a half-deleted one that looks usable).
   */
  state: 'creating' | 'running' | 'suspended' | 'resetting' | 'removing';
  /** The server process while running (pid + start time, so a reused pid is not mistaken for it). */
  server?: { pid: number; startTime?: string; containerId?: string };
  /** Where the server runs (absent in records that predate the docker driver: local). */
  /** The driver that runs it (absent in records written before drivers were recorded: 'local'). */
  driver?: string;
  /** The docker driver's settings it was made with (tools reopen it with the same ones). */
  docker?: {
    image: string;
    network: 'bridge' | 'host';
    storage: 'image' | 'bind';
    /** The engine it runs on, when not the default one (an explicit dockerHost, or DOCKER_HOST when it was made). */
    dockerHost?: string;
    /** Where its port is reached, when that is not derived from dockerHost (see publishHostFor). */
    publishHost?: string;
  };
  /** The branch's container (docker driver): kept while suspended, replaced by a reset. */
  containerId?: string;
  /**
   * `own` once the branch's data carries its own superuser password (the `password` file beside this record)
   * instead of its snapshot's; cleared when the data is cloned again (reset), so the next start sets it again.
   */
  credentials?: 'own';
  /**
   * Where the socket directory lives when `<dir>/run` is too long for a socket path (local driver): a private
   * directory made by mkdtemp in the temp directory, reused only while it still is one of pgbranch's.
   */
  socketHome?: string;
  /** The process creating the branch, while `creating`. */
  creator?: { pid: number; startTime?: string };
}

const NAME = NAME_PATTERN;

export function assertBranchName(name: string): void {
  assertName('Branch', name);
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * "1500ms", "90s", "30m", "2h", "7d" → milliseconds. The unit is required: a bare number is refused (it used to
 * mean milliseconds, so `--ttl 5` made a branch born expired).
 */
export function parseDuration(text: string, option?: string): number {
  const given = `${option ? `${option} ` : ''}"${text}"`;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) {
    const n = text.trim();
    const hint = /^\d+(\.\d+)?$/.test(n) ? ` (a number needs a unit: ${n}s, ${n}m, ${n}h or ${n}d)` : '';
    throw new UsageError(`${given} is not a duration${hint}: use a number with a unit (ms, s, m, h, d), e.g. 90s, 30m, 2h or 7d.`);
  }
  const ms = Math.round(Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]);
  if (!Number.isSafeInteger(ms)) throw new UsageError(`${given} is too long a duration: use e.g. 30d.`);
  return ms;
}

/** Shortest TTL: anything shorter would expire before anyone could use the branch. */
export const MIN_TTL_MS = 60_000;
/** Longest TTL (a year); `never` is the explicit way to say "no expiry". */
export const MAX_TTL_MS = 365 * 86_400_000;

/**
 * A named branch's TTL: a duration between 1 minute and 365 days ("30m", "2h", "7d"), or "never" (no expiry,
 * returned as undefined). `0` and bare numbers are refused rather than guessed at.
 */
export function parseTtl(text: string, option = '--ttl'): number | undefined {
  if (text.trim().toLowerCase() === 'never') return undefined;
  if (/^0+(\.0*)?\s*(ms|s|m|h|d)?$/.test(text.trim())) {
    throw new UsageError(`${option} ${text}: a branch cannot expire at once; give a TTL such as 2h or 7d, or ${option} never for no expiry.`);
  }
  const ms = parseDuration(text, option);
  if (ms < MIN_TTL_MS || ms > MAX_TTL_MS) {
    throw new UsageError(`${option} ${text} is out of range: a TTL is at least 1m and at most 365d (or ${option} never for no expiry).`);
  }
  return ms;
}

export function metaFile(dir: string): string {
  return path.join(dir, 'branch.json');
}

export async function readNamedMeta(dir: string): Promise<NamedBranchMeta | undefined> {
  try {
    const meta = JSON.parse(await readFile(metaFile(dir), 'utf8')) as NamedBranchMeta;
    return meta.version === 1 ? meta : undefined;
  } catch {
    return undefined;
  }
}

/** readNamedMeta for synchronous callers. */
export function readNamedMetaSync(dir: string): NamedBranchMeta | undefined {
  try {
    const meta = JSON.parse(readFileSync(metaFile(dir), 'utf8')) as NamedBranchMeta;
    return meta.version === 1 ? meta : undefined;
  } catch {
    return undefined;
  }
}

/** Written to a temporary file and renamed: a crash never leaves half a record. */
export async function writeNamedMeta(dir: string, meta: NamedBranchMeta): Promise<void> {
  const tmp = `${metaFile(dir)}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(meta, null, 2), { mode: 0o600 });
  await rename(tmp, metaFile(dir));
}

/** Names of the directories under `root` (every named branch, complete or not). */
export async function listNamedDirs(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory() && NAME.test(e.name)).map((e) => e.name).sort();
}

/** One entry per driver (and Docker settings) that runs named branches in `root`, to open that driver with. */
export async function recordedDrivers(root: string): Promise<Array<Pick<NamedBranchMeta, 'driver' | 'docker'>>> {
  const byDriver = new Map<string, Pick<NamedBranchMeta, 'driver' | 'docker'>>();
  for (const name of await listNamedDirs(root)) {
    const meta = await readNamedMeta(path.join(root, name));
    // A directory without a readable record (creation interrupted) is listed, as broken, by the local driver.
    // Branches of one driver with other Docker settings (another engine, storage) are opened with theirs.
    const driver = meta?.driver ?? 'local';
    const key = JSON.stringify([driver, meta?.docker ?? null]);
    if (!byDriver.has(key)) byDriver.set(key, { driver, docker: meta?.docker });
  }
  return [...byDriver.values()];
}
