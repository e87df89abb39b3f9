import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './support/processes.js';

const LOCK = pathToFileURL(path.join(repoRoot, 'packages/core/dist/cache/lock.js')).href;
const root = path.join(os.tmpdir(), 'pgbranch-test', 'lock-race');
const WORKER = path.join(root, 'worker.mjs');

/**
 * Takes the lock of each trial once, all workers starting a trial at the same wall-clock time. Inside, it claims a
 * marker file exclusively (a second holder finds it taken) and records when it entered and left.
 */
const workerSource = `import { closeSync, openSync, rmSync } from 'node:fs';
const { withLock } = await import(${JSON.stringify(LOCK)});
const { trials, holdMs, staleMs } = JSON.parse(process.argv[2]);
const held = [];
for (const t of trials) {
  while (Date.now() < t.startAt) await new Promise((r) => setTimeout(r, 1));
  await withLock(t.lock, async () => {
    const enter = Date.now();
    let shared = false;
    try { closeSync(openSync(t.marker, 'wx')); } catch { shared = true; }
    await new Promise((r) => setTimeout(r, holdMs));
    if (!shared) rmSync(t.marker, { force: true });
    held.push({ trial: t.trial, enter, exit: Date.now(), shared });
  }, { staleMs });
}
process.stdout.write(JSON.stringify(held));
`;

interface Holding {
  trial: number;
  enter: number;
  exit: number;
  shared: boolean;
}

/** Where a pid means this process's pid: the record a holder of this machine and namespace writes. */
function hereFields(): { host: string; pidNamespace: string; bootId: string } {
  return { host: os.hostname(), pidNamespace: readlinkSync('/proc/self/ns/pid'), bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() };
}

/** The pid of a process that has exited. */
function deadPid(): number {
  return spawnSync('true').pid!;
}

type StaleKind = 'dead holder' | 'unreadable owner' | 'empty directory';

/** Leaves a lock as a holder of the given kind would: killed, or on a full disk, or from a version without owner records. */
function staleLock(lockPath: string, kind: StaleKind): void {
  mkdirSync(lockPath, { recursive: true });
  if (kind === 'dead holder') writeFileSync(path.join(lockPath, 'owner.json'), JSON.stringify({ pid: deadPid(), ...hereFields(), token: 'dead' }));
  if (kind === 'unreadable owner') writeFileSync(path.join(lockPath, 'owner.json'), '');
  const old = new Date(Date.now() - 60_000);
  if (kind !== 'dead holder') utimesSync(lockPath, old, old);
}

function run(args: string[]): Promise<string> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  return new Promise((resolve) => child.once('close', () => resolve(out)));
}

beforeAll(() => {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  writeFileSync(WORKER, workerSource);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.skipIf(process.platform !== 'linux')('lock: many processes breaking one stale lock', () => {

  it('lets one holder in at a time and leaves nothing behind', async () => {
    const kinds: StaleKind[] = ['dead holder', 'unreadable owner', 'empty directory'];
    const workers = 8;
    const trialCount = 30;
    const periodMs = 300;
    const startAt = Date.now() + 1500; // time for the workers to start
    const trials = Array.from({ length: trialCount }, (_, trial) => {
      const dir = path.join(root, `trial-${trial}`);
      const lock = path.join(dir, 'x.lock');
      staleLock(lock, kinds[trial % kinds.length]!);
      return { trial, dir, lock, marker: path.join(dir, 'marker'), startAt: startAt + trial * periodMs };
    });
    const plan = JSON.stringify({ trials, holdMs: 5, staleMs: 300 });
    const outputs = await Promise.all(Array.from({ length: workers }, () => run([WORKER, plan])));
    const holdings = outputs.flatMap((o) => JSON.parse(o) as Holding[]);

    const problems: string[] = [];
    for (const t of trials) {
      const kind = kinds[t.trial % kinds.length];
      const mine = holdings.filter((h) => h.trial === t.trial).sort((a, b) => a.enter - b.enter);
      if (mine.length !== workers) problems.push(`trial ${t.trial} (${kind}): ${mine.length} of ${workers} holdings`);
      const overlaps = mine.filter((h, i) => h.shared || (i > 0 && h.enter < mine[i - 1]!.exit)).length;
      if (overlaps > 0) problems.push(`trial ${t.trial} (${kind}): ${overlaps} holders overlapped another`);
      const left = readdirSync(t.dir);
      if (left.length > 0) problems.push(`trial ${t.trial} (${kind}): left ${left.join(', ')}`);
    }
    expect(problems).toEqual([]);
  }, 60_000);
});

describe.skipIf(process.platform !== 'linux')('lock: a holder whose pid means nothing here', () => {
  const lockPath = path.join(root, 'foreign', 'x.lock');
  beforeAll(() => mkdirSync(path.dirname(lockPath), { recursive: true }));

  it.each([
    ['another pid namespace (a container sharing the host name)', { pidNamespace: 'pid:[1]' }],
    ['another boot', { bootId: '00000000-0000-0000-0000-000000000000' }],
  ])('is waited for while it refreshes its lock: %s', async (_, differs) => {
    rmSync(lockPath, { recursive: true, force: true });
    mkdirSync(lockPath);
    // Its pid is not running here, which says nothing of a process in another namespace or boot.
    writeFileSync(path.join(lockPath, 'owner.json'), JSON.stringify({ pid: deadPid(), ...hereFields(), ...differs, token: 'foreign' }));
    const refresh = setInterval(() => {
      try {
        utimesSync(lockPath, new Date(), new Date());
      } catch {
        // taken already: the assertion below tells
      }
    }, 50);
    const code = `const { withLock } = await import(${JSON.stringify(LOCK)});
await withLock(${JSON.stringify(lockPath)}, async () => console.log('held'), { staleMs: 1000 });`;
    const waiter = run(['--input-type=module', '-e', code]);
    let done = false;
    void waiter.then(() => (done = true));
    try {
      await new Promise((r) => setTimeout(r, 2000));
      expect(done).toBe(false);
    } finally {
      clearInterval(refresh);
    }
    // Once the holder stops refreshing, its lock goes stale and is taken.
    expect((await waiter).trim()).toBe('held');
    expect(readdirSync(path.dirname(lockPath))).toEqual([]);
  }, 30_000);
});

describe('lock: leftovers of a process killed mid-step', () => {
  const dir = path.join(root, 'leftovers');
  const lockPath = path.join(dir, 'x.lock');

  it('removes temporary and moved-aside directories older than a minute, and only those', async () => {
    rmSync(dir, { recursive: true, force: true });
    const old = new Date(Date.now() - 120_000);
    for (const name of ['x.lock.tmp-old', 'x.lock.stale-old', 'x.lock.break.tmp-old', 'x.lock.break.stale-old', 'y.lock.tmp-old']) {
      mkdirSync(path.join(dir, name), { recursive: true });
      writeFileSync(path.join(dir, name, 'owner.json'), '');
      utimesSync(path.join(dir, name), old, old);
    }
    // A directory of a process placing its lock right now is not a leftover.
    mkdirSync(path.join(dir, 'x.lock.tmp-new'));
    const { withLock } = (await import(LOCK)) as typeof import('../packages/core/src/cache/lock.js');
    await withLock(lockPath, async () => undefined);
    expect(readdirSync(dir).sort()).toEqual(['x.lock.tmp-new', 'y.lock.tmp-old']);
  });
});
