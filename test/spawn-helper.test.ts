import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exec } from '../packages/core/dist/system/exec.js';
import { hasExited } from '../packages/core/dist/system/proc.js';
import { startProcess, useSpawnHelper } from '../packages/core/dist/system/spawn-helper.js';
import { repoRoot } from './support/processes.js';
import { waitUntil } from './support/wait.js';

// Pool servers start processes through a small helper process (a fork of a test runner's big main process costs
// ~6 ms each). What they start must behave exactly as if started directly, also when the helper or its parent dies.
const linux = process.platform === 'linux';
const parentOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
const dir = mkdtempSync(path.join(os.tmpdir(), 'pgbranch-spawn-helper-'));
const strays: number[] = [];
afterAll(() => {
  for (const pid of strays) if (!hasExited(pid)) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!linux)('the spawn helper (Linux)', () => {
  useSpawnHelper();

  it('starts a process that logs to its file, reports its exit, and takes signals', async () => {
    const logFile = path.join(dir, 'out.log');
    const done = await startProcess('/bin/sh', ['-c', 'echo hello; echo oops >&2; exit 3'], { logFile, detached: true, env: {} });
    await done.exited;
    expect(done.exitStatus()).toBe('3');
    expect(readFileSync(logFile, 'utf8')).toBe('hello\noops\n');

    const sleeper = await startProcess('/bin/sleep', ['30'], { detached: true, env: {} });
    strays.push(sleeper.pid);
    expect(parentOf(sleeper.pid)).not.toBe(process.pid); // started by the helper, not this process
    expect(sleeper.exitStatus()).toBeUndefined();
    sleeper.kill('SIGTERM');
    await sleeper.exited;
    expect(sleeper.exitStatus()).toBe('SIGTERM');
  });

  it('rejects a program that does not exist, and runs commands to their end with their output or their error', async () => {
    await expect(startProcess(path.join(dir, 'no-such-program'), [], { detached: true, env: {} })).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await exec('/bin/sh', ['-c', 'echo out; echo err >&2'])).toEqual({ stdout: 'out\n', stderr: 'err\n' });
    await expect(exec('/bin/sh', ['-c', 'echo "no such mount" >&2; exit 32'])).rejects.toThrow(/failed: no such mount/);
  });

  it('reports the exit of a process that ends at once, every time', async () => {
    // The helper's "started" and "exited" messages for such a process can arrive together.
    for (let i = 0; i < 30; i++) {
      const quick = await startProcess('/bin/true', [], { detached: true, env: {} });
      await quick.exited;
      expect(quick.exitStatus()).toBe('0');
    }
  });

  it('still reports the exit of what it started after the helper is killed, and starts the next process through a new one', async () => {
    const sleeper = await startProcess('/bin/sleep', ['30'], { detached: true, env: {} });
    strays.push(sleeper.pid);
    const helper = parentOf(sleeper.pid);
    process.kill(helper, 'SIGKILL');
    await waitUntil(() => hasExited(helper));
    sleeper.kill('SIGKILL');
    await sleeper.exited; // noticed through /proc now
    expect(sleeper.exitStatus()).toBeDefined();
    const after = await startProcess('/bin/sleep', ['30'], { detached: true, env: {} });
    strays.push(after.pid);
    expect(parentOf(after.pid)).not.toBe(helper);
    after.kill('SIGKILL');
    await after.exited;
  });

  it('starts processes directly when the helper cannot come up, without running anything twice', async () => {
    // The helper inherits NODE_OPTIONS, set here (after this child started) to something it cannot load.
    const script = `import { startProcess, useSpawnHelper } from ${JSON.stringify(path.join(repoRoot, 'packages/core/dist/system/spawn-helper.js'))};
      import { exec } from ${JSON.stringify(path.join(repoRoot, 'packages/core/dist/system/exec.js'))};
      process.env.NODE_OPTIONS = '--require /nonexistent/pgbranch-broken-preload.cjs';
      const alive = setInterval(() => {}, 1000); // what it starts does not keep it running, as for servers
      useSpawnHelper();
      const p = await startProcess('/bin/sh', ['-c', 'exit 7'], { detached: true, env: {} });
      await p.exited;
      const { stdout } = await exec('/bin/sh', ['-c', 'echo $PPID']);
      console.log(JSON.stringify({ status: p.exitStatus(), execParent: Number(stdout), self: process.pid }));
      clearInterval(alive);`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout.trim().split('\n').pop()!) as { status: string; execParent: number; self: number };
    expect(result.status).toBe('7');
    expect(result.execParent).toBe(result.self); // run by the process itself, not a helper
  });

  it('exits when the process that started it is killed', async () => {
    // A child Node process starts a sleeper through its helper, prints the sleeper's pid, and is SIGKILLed.
    const script = `import { startProcess, useSpawnHelper } from ${JSON.stringify(path.join(repoRoot, 'packages/core/dist/system/spawn-helper.js'))};
      useSpawnHelper();
      const p = await startProcess('/bin/sleep', ['30'], { detached: true, env: {} });
      console.log(p.pid); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const sleeper = Number(await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(String(d)))));
    strays.push(sleeper);
    const helper = parentOf(sleeper);
    expect(helper).not.toBe(child.pid);
    child.kill('SIGKILL');
    await waitUntil(() => hasExited(helper));
    expect(hasExited(helper)).toBe(true);
  });
});
