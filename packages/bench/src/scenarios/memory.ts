import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { methodResult } from '../stats.js';
import type { MethodResult, Scenario } from '../types.js';
import { fixture, query, targets, withEngine } from './common.js';

/** Proportional set size of a process and all its descendants, in MB (Linux smaps_rollup). */
function pssTreeMb(root: number): number {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // exited
    }
  }
  let kb = 0;
  const visit = (pid: number): void => {
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      kb += Number(m?.[1] ?? 0);
    } catch {
      // exited
    }
    for (const c of children.get(pid) ?? []) visit(c);
  };
  visit(root);
  return kb / 1024;
}

/** Memory of a container as Docker reports it, in MB. */
function containerMb(id: string): number {
  const out = execFileSync('docker', ['stats', '--no-stream', '--format', '{{.MemUsage}}', id], { encoding: 'utf8' }).trim();
  const m = /^([\d.]+)\s*([KMG]i?B)/.exec(out);
  if (!m) return NaN;
  const factor = m[2]!.startsWith('G') ? 1024 : m[2]!.startsWith('K') ? 1 / 1024 : 1;
  return Number(m[1]) * factor;
}

/** Scenario 7: memory per warm branch (idle, after one connection), per driver. */
export const memory: Scenario = {
  id: 'memory',
  title: 'Memory per warm branch',
  async run(ctx) {
    const results: MethodResult[] = [];
    const notes: string[] = ['Local: PSS of the postmaster and its children (shared memory split between them). Docker: the container memory Docker reports.'];
    // The cloner does not change a server's memory: one local target (the best available), and each Docker storage.
    const available = targets(ctx, { docker: true }).filter((t) => !t.unavailable);
    const local = available.find((t) => t.options.driver !== 'docker');
    for (const target of [...(local ? [local] : []), ...available.filter((t) => t.options.driver === 'docker')]) {
      await withEngine(target, async (engine) => {
        const snap = await engine.snapshot({ name: 'sync-store', sql: fixture(ctx) });
        const branches = [];
        for (let i = 0; i < 5; i++) {
          ctx.progress(`${target.label}: branch ${i + 1}/5`);
          const branch = await snap.branch();
          await query(branch.url, 'select count(*) from documents');
          branches.push(branch);
        }
        await new Promise((r) => setTimeout(r, 500));
        const mb = branches.map((b) => (b.pid ? pssTreeMb(b.pid) : containerMb(b.containerId!)));
        results.push(methodResult(target.label, mb, { unit: 'MB' }));
        for (const b of branches) await b.destroy();
      });
    }
    return {
      id: this.id,
      title: this.title,
      status: results.length ? 'ok' : 'not available',
      results,
      charts: [{ kind: 'distribution', title: 'Memory per warm branch (5 branches each)', file: 'memory.svg', yLabel: 'MB' }],
      notes,
    };
  },
};
