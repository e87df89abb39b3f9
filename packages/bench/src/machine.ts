import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';

/** What the figures were measured on. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  postgres: string;
  workDisk: string;
  versions: Record<string, string>;
}

export function machineInfo(workDir: string, postgresVersion: string): MachineInfo {
  const require = createRequire(import.meta.url);
  const versionOf = (name: string) => {
    try {
      return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
    } catch {
      return 'not installed';
    }
  };
  let workDisk = 'unknown';
  try {
    workDisk = execFileSync('df', ['-T', workDir], { encoding: 'utf8' }).trim().split('\n')[1]!.split(/\s+/)[1]!;
  } catch {
    // df missing: left unknown
  }
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
    postgres: postgresVersion,
    workDisk,
    versions: Object.fromEntries(['@pgbranch/core', 'pg', 'dockerode', 'testcontainers', 'tinybench', '@electric-sql/pglite'].map((n) => [n, versionOf(n)])),
  };
}
