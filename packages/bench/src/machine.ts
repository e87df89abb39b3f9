import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

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
  // Resolved from @pgbranch/core too: dockerode and pg are its dependencies, not this package's.
  const requires = [createRequire(import.meta.url), createRequire(createRequire(import.meta.url).resolve('@pgbranch/core'))];
  const versionOf = (name: string) => {
    for (const require of requires) {
      try {
        // Packages whose "exports" hide package.json: walk up from their entry point.
        let dir = path.dirname(require.resolve(name));
        while (dir !== path.dirname(dir)) {
          const file = path.join(dir, 'package.json');
          if (existsSync(file)) {
            const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version: string };
            if (pkg.name === name) return pkg.version;
          }
          dir = path.dirname(dir);
        }
      } catch {
        // not resolvable from here
      }
    }
    return 'not installed';
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
    versions: Object.fromEntries(['@pgbranch/core', 'pg', 'dockerode', 'testcontainers', '@electric-sql/pglite'].map((n) => [n, versionOf(n)])),
  };
}
