import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import type { EngineInfo, EngineOptions } from '@pgbranch/core';
import type { DriverChecks } from './driver-checks.js';
import { dockerChecks } from './docker-checks.js';
import { dockerUnavailable, TEST_IMAGE } from './docker.js';
import { localChecks } from './local-checks.js';
import { PSQL, templateChecks } from './template-checks.js';
import { existsSync } from 'node:fs';
import { clonerRoot, type TestRoot } from './targets.js';

/** Scenarios of the shared branching suite, by id (see branching-suite.ts). */
export type Scenario =
  | 'seeds'
  | 'isolation'
  | 'reset'
  | 'branch-of-branch'
  | 'destroy'
  | 'suspend'
  | 'privilege-drop'
  | 'cross-process-reuse'
  | 'concurrent-seed'
  | 'broken-sql'
  | 'reap-by-gc'
  | 'reap-by-next-engine';

/** One driver configuration the shared branching suite runs against. */
export interface SuiteTarget {
  /** Shown as the suite's name: "local driver, copy cloner". */
  label: string;
  /** Engine options of every engine of the suite, in this process and in the child processes it starts. */
  options: Omit<EngineOptions, 'cacheDir'>;
  /** This target's cache directory for one test file, on a filesystem where the target works. */
  cacheDir(file: string): string;
  /** Why the target cannot run here (the suite skips, or fails under PGBRANCH_TEST_REQUIRE=all); undefined when it can. */
  unavailable?: string;
  /** What `engine.info()` must say (a `toMatchObject` pattern). */
  info: Partial<Record<keyof EngineInfo, unknown>>;
  /** What the driver leaves on the machine: how the suite proves that nothing leaked. */
  checks: DriverChecks;
  /** Scenarios that do not apply to this driver, with the reason shown on the skipped test. */
  notApplicable?: Partial<Record<Scenario, string>>;
}

/**
 * The suite target of an engine configuration: `{ driver: 'local', cloner: 'copy' }`,
 * `{ driver: 'docker', docker: { storage: 'bind' } }`. A new driver adds a case here: its filesystem root,
 * what `info()` says, and its DriverChecks.
 */
export function suiteTarget(spec: Omit<EngineOptions, 'cacheDir'>): SuiteTarget {
  switch (spec.driver) {
    case 'local': {
      const cloner = fixed('cloner', spec.cloner);
      return target(`local driver, ${cloner} cloner`, `local-${cloner}`, spec, clonerRoot(cloner), { driver: 'local', cloner }, localChecks);
    }
    case 'docker': {
      const storage = fixed('docker.storage', spec.docker?.storage);
      // Bind storage clones on the host: the btrfs test filesystem gives it real copy-on-write.
      const root = storage === 'bind' ? clonerRoot('btrfs') : { path: os.tmpdir() };
      const docker = { image: TEST_IMAGE, network: 'host' as const, ...spec.docker };
      const info = { driver: 'docker', cloner: storage === 'bind' ? 'btrfs' : 'docker-layers', image: docker.image, postgresVersion: expect.stringMatching(/^18/) };
      const found = { path: root.path, unavailable: dockerUnavailable() ?? root.unavailable };
      return target(`docker driver, ${storage} storage`, `docker-${storage}`, { ...spec, docker }, found, info, dockerChecks(storage));
    }
    case 'template': {
      // The template server's data directory is a clone of the snapshot's: the cloner's filesystem is its root.
      const cloner = fixed('cloner', spec.cloner);
      const info = { driver: 'template', cloner: 'template-database', postgresVersion: expect.stringMatching(/^18/) };
      const found = { ...clonerRoot(cloner), unavailable: clonerRoot(cloner).unavailable ?? (existsSync(PSQL) ? undefined : `${PSQL} is needed to look into the template server`) };
      return target(`template driver, ${cloner} cloner`, `template-${cloner}`, spec, found, info, templateChecks);
    }
    default:
      throw new Error(`No suite target for driver ${String(spec.driver)}: add its case to test/support/suite-target.ts`);
  }
}

function target(label: string, slug: string, options: SuiteTarget['options'], root: TestRoot, info: SuiteTarget['info'], checks: DriverChecks): SuiteTarget {
  return { label, options, cacheDir: (file) => path.join(root.path, 'pgbranch-test', slug, file), unavailable: root.unavailable, info, checks };
}

/** The suite names what it tests: 'auto' would let the machine choose. */
function fixed<T extends string>(option: string, value: T | 'auto' | undefined): T {
  if (value === undefined || value === 'auto') throw new Error(`A suite target names its ${option} (not 'auto')`);
  return value;
}
