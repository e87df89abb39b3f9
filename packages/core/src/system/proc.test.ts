import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { commandLine, hasExited, isAlive, processStartTime, statFields } from './proc.js';

// The `ps` path is the one macOS takes; procps answers the same columns, so it runs here too.
describe.each(['linux', 'darwin'] as const)('process facts as on %s', (platform) => {
  it('tells this process from a reused pid by its start time', () => {
    const start = processStartTime(process.pid, platform);
    expect(start).toBeTruthy();
    expect(processStartTime(process.pid, platform)).toBe(start);
    expect(isAlive(process.pid, start, platform)).toBe(true);
    expect(isAlive(process.pid, `${start}-other`, platform)).toBe(false);
  });

  it('reads the command line of a live process and nothing of a gone one', async () => {
    const child = spawn('sleep', ['30']);
    await new Promise((r) => child.once('spawn', r));
    expect(commandLine(child.pid!, platform)).toContain('sleep 30');
    expect(hasExited(child.pid!, platform)).toBe(false);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(hasExited(child.pid!, platform)).toBe(true);
    expect(commandLine(child.pid!, platform)).toBe('');
    expect(processStartTime(child.pid!, platform)).toBeUndefined();
  });
});

describe('statFields', () => {
  it('skips a command name with spaces and parentheses', () => {
    expect(statFields('42 (a (b) c) S 1 42 42 0 -1')[0]).toBe('S');
  });
});
