import { rm } from 'node:fs/promises';
import path from 'node:path';
import { createEngine, type Engine } from '@pgbranch/core';
import type { BenchContext, MethodResult } from '../../types.js';
import { describe, runCleanups, type CleanupFn, type Defer, type SqlFile } from './support.js';

/** What every peer family shares during one run of the scenario: results, notes, finalizers and the fixture. */
export class RunContext {
  readonly results: MethodResult[] = [];
  readonly notes: string[] = [];
  /** Long-lived resources (engines, directories, servers), released in reverse order whatever happens. */
  readonly finalizers: CleanupFn[] = [];
  readonly fixtureDir: string;
  readonly tag = `peers-${process.pid}`;
  /** The fixture's SQL files, read by the scenario before any method runs. */
  files: SqlFile[] = [];

  constructor(readonly ctx: BenchContext) {
    this.fixtureDir = path.join(ctx.root, 'fixtures/recipes/sync-store');
  }

  /** Runs one method group; a failure becomes a note and the other methods still run. */
  async attempt(label: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.notes.push(`${label}: failed — ${describe(err)}`);
    }
  }

  /**
   * `n` timed samples after one warm-up. `trial` registers the cleanup of everything it creates through
   * `defer`; that cleanup runs after the clock stops (and on failure).
   */
  async sampleLoop(label: string, n: number, trial: (defer: Defer, i: number) => Promise<void>): Promise<number[]> {
    const samples: number[] = [];
    for (let i = 0; i <= n; i++) {
      this.ctx.progress(`peers: ${label} ${i === 0 ? 'warm-up' : `${i}/${n}`}`);
      const cleanups: CleanupFn[] = [];
      try {
        const t = performance.now();
        await trial((fn) => cleanups.push(fn), i);
        const ms = performance.now() - t;
        if (i > 0) samples.push(ms);
      } finally {
        const errors: string[] = [];
        await runCleanups(cleanups, errors);
        for (const e of errors) this.notes.push(`${label}: cleanup: ${e}`);
      }
    }
    return samples;
  }

  /** An engine whose close and directory removal are guaranteed by the scenario's finalizers. */
  async engine(cacheDir: string, cloner?: 'copy'): Promise<{ engine: Engine; release: () => Promise<void> }> {
    await rm(cacheDir, { recursive: true, force: true });
    let engine: Engine | undefined;
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      try {
        await engine?.close();
      } finally {
        await rm(cacheDir, { recursive: true, force: true });
      }
    };
    this.finalizers.push(release);
    engine = await createEngine({ cacheDir, driver: 'local', ...(cloner ? { cloner } : {}) });
    return { engine, release };
  }
}
