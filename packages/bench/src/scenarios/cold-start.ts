import { execFileSync } from 'node:child_process';
import { accessSync, constants, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { runMicro, runMicroTask, type MicroTask } from '../micro.js';
import { REFERENCE } from '../reference.js';
import { methodResult } from '../stats.js';
import { Keeper } from '@pgbranch/core';
import type { MethodResult, Scenario } from '../types.js';
import { branchCreationTask, fixture, progressOf, query, withEngine } from './common.js';

const QUERY = 'select count(*) from documents';
const HOT = 'resume a suspended branch (hot: page cache warm)';
const WARM = 'resume a suspended branch (warm: page cache dropped)';
const WAKE = 'wake on connect (suspended named branch, keeper holding its port)';
const HOW: Record<string, string> = {
  [HOT]: 'branch.suspend() then timed branch.resume() + connect + first query on the fixture table',
  [WARM]: 'as hot, after sync + echo 3 > /proc/sys/vm/drop_caches',
  [WAKE]: 'pg connects to the suspended branch URL; the keeper accepts, resumes the server, pipes the connection; until the first query returns',
};

function canDropCaches(): boolean {
  try {
    accessSync('/proc/sys/vm/drop_caches', constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function dropCaches(): void {
  execFileSync('sync');
  writeFileSync('/proc/sys/vm/drop_caches', '3');
}

/** Scenario 5: resume of a suspended branch (hot), a new branch (cold), initdb + start (traditional). */
export const coldStart: Scenario = {
  id: 'cold-start',
  title: 'Cold start: resume vs new branch vs initdb + start',
  async run(ctx) {
    const results: MethodResult[] = [];
    const notes: string[] = [`first query everywhere: "${QUERY}" (the fixture's largest table)`];
    const dir = path.join(ctx.workDir, 'cold-start');
    await withEngine({ label: 'default', options: { cacheDir: dir } }, async (engine) => {
      const snap = await engine.snapshot({ name: 'sync-store', sql: fixture(ctx) });
      const progress = progressOf(ctx);
      const coldLabel = `new branch from snapshot (cold, ${engine.info().cloner})`;
      results.push(methodResult(coldLabel, await runMicroTask(branchCreationTask(coldLabel, snap), { iterations: ctx.iterations, progress })));

      // Resume: the same branch suspended (clean stop, data kept) before the clock, then resume + connect + first query.
      const branch = await snap.branch();
      try {
        await query(branch.url, QUERY);
        const resume = (name: string, beforeEach: () => Promise<void> | void): MicroTask => ({
          name,
          beforeEach,
          fn: async () => {
            await branch.resume();
            await query(branch.url, QUERY);
          },
        });
        const tasks = [resume(HOT, () => branch.suspend())];
        if (canDropCaches()) {
          tasks.push(
            resume(WARM, async () => {
              await branch.suspend();
              dropCaches();
            }),
          );
        } else {
          notes.push('resume after dropping the page cache (warm): not available — needs root to write /proc/sys/vm/drop_caches.');
        }
        for (const [method, samples] of await runMicro(tasks, { iterations: ctx.iterations, progress })) {
          results.push(methodResult(method, samples, { note: HOW[method] }));
        }
      } finally {
        await branch.destroy();
      }

      // Wake on connect: a named branch suspended while the keeper holds its port; the client just connects.
      const named = engine.named();
      for (const b of await named.list()) if (b.name === 'bench-wake') await named.destroy(b.name);
      const info = await named.create('bench-wake', snap);
      const keeper = new Keeper(engine, { intervalMs: 50, idleAfterMs: 3_600_000, suspendAfterMs: 3_600_000 });
      try {
        await keeper.start();
        const wake: MicroTask = {
          name: WAKE,
          beforeEach: async () => {
            await named.suspend('bench-wake');
            await keeper.tick(); // the keeper now holds the port
          },
          fn: () => query(named.url(info), QUERY),
        };
        results.push(methodResult(WAKE, await runMicroTask(wake, { iterations: ctx.iterations, progress }), { note: HOW[WAKE] }));
      } finally {
        await keeper.close();
        await named.destroy('bench-wake');
      }
    });
    const traditional: number[] = [];
    const n = Math.min(5, ctx.iterations);
    for (let i = 0; i < n; i++) {
      ctx.progress(`initdb + start ${i + 1}/${n}`);
      const fresh = path.join(ctx.workDir, `cold-start-fresh-${i}`);
      await rm(fresh, { recursive: true, force: true });
      const t = performance.now();
      await withEngine({ label: 'fresh', options: { cacheDir: fresh } }, async (engine) => {
        const snap = await engine.snapshot({ name: 'empty', sql: [] });
        const branch = await snap.branch();
        await query(branch.url);
        traditional.push(performance.now() - t);
        await branch.destroy();
      });
      await rm(fresh, { recursive: true, force: true });
    }
    results.push(methodResult('initdb + start (traditional, no fixture)', traditional, { note: 'a fresh cache directory each time: initdb, start, first query' }));
    return {
      id: this.id,
      title: this.title,
      status: 'ok',
      results,
      reference: REFERENCE.coldStart,
      charts: [{ kind: 'distribution', title: 'Cold start to first query', file: 'cold-start.svg', yLabel: 'ms', log: true }],
      notes,
    };
  },
};
