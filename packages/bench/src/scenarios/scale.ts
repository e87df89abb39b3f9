import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { createEngine, type EngineOptions } from '@pgbranch/core';
import { median, methodResult } from '../stats.js';
import type { MethodResult, Scenario } from '../types.js';
import { bulkRecipe, fixture, query, usableTargets, type Target } from './common.js';

type Method = 'seed locally' | 'import an archive' | 'pull from the registry';

/**
 * Scenario: time to a first branch on a fresh shard (an empty cache directory, as on a new CI runner): seed the
 * snapshot there, import it from an archive (a CI cache), or pull it from a registry — for the 70 MB and 1 GB
 * snapshots. Each sample is a new engine on an empty cache directory through `snapshot()` (or the import), one
 * branch and its first query; the three methods alternate round by round.
 */
export const scale: Scenario = {
  id: 'scale',
  title: 'A fresh shard: time to its first branch — seed vs import vs registry pull',
  async run(ctx) {
    const notes: string[] = [];
    const results: MethodResult[] = [];
    const registry = process.env.PGBRANCH_BENCH_REGISTRY ?? process.env.PGBRANCH_TEST_REGISTRY;
    if (!registry) notes.push('pull from the registry: not available — set PGBRANCH_BENCH_REGISTRY (e.g. eval "$(bash scripts/test-registry.sh up)")');
    if (registry && !ctx.docker.available) notes.push(`pull from the registry: not available — ${ctx.docker.reason} (the local driver's snapshots travel through the Docker CLI)`);
    const target = usableTargets(ctx, notes)[0] as Target | undefined;
    if (!target) return { id: this.id, title: this.title, status: 'not available', reason: notes.join('; '), results, charts: [], notes };
    const sizes: Array<{ label: string; sql: string[]; rounds: number }> = [
      { label: '70 MB', sql: fixture(ctx), rounds: ctx.slowIterations },
      { label: '1 GB', sql: await bulkRecipe(ctx, 1000), rounds: Math.min(ctx.slowIterations, ctx.full ? 5 : 2) },
    ];
    const base = target.options.cacheDir!;
    const repository = registry ? `${registry}/pgbranch-bench/scale-${Date.now().toString(36)}` : undefined;
    const useRegistry = Boolean(repository && ctx.docker.available);
    for (const size of sizes) {
      const recipe = { name: `scale-${size.label.replace(' ', '').toLowerCase()}`, sql: size.sql };
      const archive = path.join(ctx.workDir, `${recipe.name}.tar.gz`);
      // The setup job: seed once, write the archive, push to the registry.
      ctx.progress(`scale ${size.label}: seeding the source`);
      const source = { ...target.options, cacheDir: `${base}-scale-source`, ...(useRegistry ? { registry: repository } : { registry: false as const }) };
      await rm(source.cacheDir, { recursive: true, force: true });
      const setup = await createEngine(source);
      try {
        const snap = await setup.snapshot(recipe);
        await setup.exportSnapshot(snap.hash, createWriteStream(archive));
      } finally {
        await setup.close(); // waits for the push
        await rm(source.cacheDir, { recursive: true, force: true });
      }
      notes.push(`${size.label}: archive ${((await stat(archive)).size / 1e6).toFixed(1)} MB (gzip)`);
      const methods: Method[] = ['seed locally', 'import an archive', ...(useRegistry ? (['pull from the registry'] as const) : [])];
      const samples = new Map<Method, number[]>(methods.map((m) => [m, []]));
      for (let round = 0; round < size.rounds; round++) {
        for (const method of methods) {
          ctx.progress(`scale ${size.label}: ${method} ${round + 1}/${size.rounds}`);
          const shard: EngineOptions = { ...target.options, cacheDir: `${base}-scale-shard`, registry: method === 'pull from the registry' ? { repository, push: false } : false };
          await rm(shard.cacheDir!, { recursive: true, force: true });
          await mkdir(path.dirname(shard.cacheDir!), { recursive: true });
          const started = performance.now();
          const engine = await createEngine(shard);
          try {
            const snap = method === 'import an archive' ? await engine.importSnapshot(createReadStream(archive)) : await engine.snapshot(recipe);
            const expected = method === 'seed locally' ? 'built' : method === 'import an archive' ? 'archive' : 'registry';
            if (snap.origin !== expected) throw new Error(`${method}: the snapshot came from ${snap.origin}, not ${expected}`);
            const branch = await snap.branch();
            await query(branch.url);
            samples.get(method)!.push(performance.now() - started);
            await branch.destroy();
          } finally {
            await engine.close();
            await rm(shard.cacheDir!, { recursive: true, force: true });
          }
        }
      }
      for (const [method, values] of samples) results.push(methodResult(method, values, { group: size.label, note: target.label }));
      const seed = median(samples.get('seed locally')!);
      for (const method of methods.slice(1)) notes.push(`${size.label}: ${method} ÷ seed locally (medians, same run) = ${(median(samples.get(method)!) / seed).toFixed(2)}×`);
      await rm(archive, { force: true });
    }
    notes.push(`Cache directories on ${target.label}'s filesystem; the registry is docker-registry (distribution 2.8) on 127.0.0.1, so its figures have no network in them.`);
    return {
      id: this.id,
      title: this.title,
      status: 'ok',
      results,
      charts: [{ kind: 'distribution', title: 'Fresh shard: engine start to first query on a branch', file: 'scale.svg', yLabel: 'ms', log: true }],
      notes,
    };
  },
};
