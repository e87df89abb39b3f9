import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { BenchContext, Scenario, ScenarioResult } from '../../types.js';
import { startSharedServer, type SharedServer } from './shared-server.js';
import { removeLabelledContainers } from '../peers/support.js';
import { e2eModes, type Mode } from './modes.js';
import { e2eReport, type Measured } from './report.js';
import { dropCache, generateSuite, runSuite, shapeName, type Shape } from './suite.js';

/** The main suite shape (every mode), then the growth shapes (the fast modes only). */
function shapes(ctx: BenchContext): { main: Shape; growth: Shape[] } {
  const files = ctx.full ? 40 : 16;
  return { main: { files, workers: 2 }, growth: [{ files: files * 2.5, workers: 2 }, { files, workers: 4 }] };
}

/**
 * Scenario 9: one generated vitest suite (each file inserts 10 rows into its own database and checks it sees exactly
 * those), run with every way a team gives test files a database: none, a shared database with rolled-back
 * transactions (the floor), template databases, Testcontainers (shared and per file), PGlite (per file and clone),
 * and pgbranch (each cloner, Docker, template driver). Wall time of `vitest run`, per-file overhead over the floor.
 */
export const endToEnd: Scenario = {
  id: 'end-to-end',
  title: 'End to end: a vitest suite with every way of giving its files a database',
  async run(ctx) {
    const project = path.join(ctx.root, 'bench/projects/e2e');
    const label = `pgbranch.bench=e2e-${process.pid}`;
    const { modes, skipped } = e2eModes(ctx);
    const { main, growth } = shapes(ctx);
    const rounds = { main: ctx.full ? 5 : 3, growth: ctx.full ? 3 : 1 };
    const measured: Measured[] = [];
    const failures: string[] = [];
    const firstRuns: string[] = [];
    const failed = new Set<Mode>();
    const sharedServers = new Map<Mode, SharedServer>();

    /** One run; a failure records a note, drops the mode from later runs and removes its containers. */
    const attempt = async (mode: Mode, shape: Shape, only?: number): Promise<number | undefined> => {
      try {
        return await runSuite(ctx, project, mode, shape, label, only, sharedServers.get(mode)?.env);
      } catch (err) {
        failed.add(mode);
        failures.push(`${mode.label} (${shapeName(shape)}): failed — ${err instanceof Error ? err.message : String(err)}`);
        await removeLabelledContainers(label).catch(() => undefined);
        return undefined;
      }
    };

    const measureShape = async (shape: Shape, shapeModes: Mode[], n: number, warmUp: boolean) => {
      await generateSuite(project, shape.files);
      if (warmUp) {
        for (const mode of shapeModes) {
          // The slow modes warm their caches (image layers, WASM) on one file per worker: a full run costs minutes.
          ctx.progress(`${mode.label}: warm-up`);
          const ms = await attempt(mode, shape, mode.slow ? shape.workers : undefined);
          if (ms !== undefined && mode.id.startsWith('pgbranch')) firstRuns.push(`${mode.label}: ${(ms / 1000).toFixed(1)} s`);
        }
      }
      const rows = shapeModes.map((mode) => ({ mode, group: shapeName(shape), files: shape.files, samples: [] as number[] }));
      // Rounds alternate the modes, so drift in machine load spreads over all of them.
      for (let round = 0; round < n; round++) {
        for (const row of rows.filter((r) => !failed.has(r.mode))) {
          ctx.progress(`${row.mode.label}, ${row.group}: run ${round + 1}/${n}`);
          const ms = await attempt(row.mode, shape);
          if (ms !== undefined) row.samples.push(ms);
        }
      }
      measured.push(...rows.filter((r) => r.samples.length > 0 && !failed.has(r.mode)));
    };

    try {
      for (const mode of modes.filter((m) => m.id === 'floor' || m.id.startsWith('template-'))) {
        ctx.progress(`${mode.label}: starting its shared server`);
        try {
          sharedServers.set(mode, await startSharedServer(ctx, mode));
        } catch (err) {
          failed.add(mode);
          failures.push(`${mode.label}: its shared server did not start — ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      await measureShape(main, modes.filter((m) => !failed.has(m)), rounds.main, true);
      for (const shape of growth) await measureShape(shape, modes.filter((m) => !m.slow && !failed.has(m)), rounds.growth, false);
    } finally {
      for (const server of sharedServers.values()) await server.stop().catch(() => undefined);
      await removeLabelledContainers(label).catch(() => undefined);
      for (const mode of modes) await dropCache(ctx, mode).catch(() => undefined);
      await rm(path.join(project, 'generated'), { recursive: true, force: true });
    }

    const { results, notes } = e2eReport({ main, growth, rounds, measured, skipped, failures, firstRuns });
    const ok = results.length > 1;
    const result: ScenarioResult = {
      id: this.id,
      title: this.title,
      status: ok ? 'ok' : 'failed',
      reason: ok ? undefined : failures.join('; ') || 'no database method could run',
      results,
      charts: [{ kind: 'distribution', title: `${shapeName(main)}: vitest wall time`, file: 'end-to-end.svg', yLabel: 'ms', log: true, groups: [shapeName(main)] }],
      notes,
    };
    return result;
  },
};
