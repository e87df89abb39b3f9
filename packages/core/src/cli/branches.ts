import path from 'node:path';
import { openEngine, type Engine, type EngineUse } from '../engine/engine.js';
import { BranchBrokenError, describeCause, UsageError } from '../errors.js';
import type { NamedBranches, NamedBranchInfo } from '../named/named-branches.js';
import { parseTtl, readNamedMeta, recordedDrivers, type NamedBranchMeta } from '../cache/named-record.js';
import { resolveOptions, type EngineOptions } from '../options.js';
import type { DriverChoice } from '../drivers/registry.js';
import type { Snapshot } from '../branch/branch.js';

export interface CliContext {
  cacheDir?: string;
  /** A driver's name, or 'auto' (local when Postgres binaries exist, else docker). */
  driver?: DriverChoice;
  json: boolean;
  out: (line: string) => void;
}

/**
 * Runs `fn` with an engine on the cache directory, closed afterwards (named branches stay as they are). For a
 * command on an existing branch, the engine uses the driver and Docker settings the branch was made with.
 * `use` says what the command does (see EngineUse): `ls` and `url` write nothing, `rm` and `suspend` need no
 * owner record, so they work on a read-only or a full cache directory.
 */
export async function withNamed<T>(cli: CliContext, fn: (named: NamedBranches, engine: Engine) => Promise<T>, branch?: string, use: EngineUse = 'build'): Promise<T> {
  const record = branch && !cli.driver ? await readNamedMeta(path.join(resolveOptions({ cacheDir: cli.cacheDir }).cacheDir, 'named', branch)) : undefined;
  const engine = await openEngine(
    record ? engineOptionsOf(cli.cacheDir, record) : { cacheDir: cli.cacheDir, driver: cli.driver ?? 'auto' },
    use,
  );
  try {
    return await fn(engine.named(), engine);
  } finally {
    await engine.close();
  }
}

/** The engine options that open a named branch's record with the driver and Docker settings it was made with. */
export function engineOptionsOf(cacheDir: string | undefined, record: Pick<NamedBranchMeta, 'driver' | 'docker'>): EngineOptions {
  return { cacheDir, driver: (record.driver ?? 'local') as DriverChoice, ...(record.docker ? { docker: record.docker } : {}) };
}

/**
 * `pgbranch snapshot NAME --sql PATH…`: builds (or finds) a snapshot of SQL files and prints its hash. With
 * `printHash`, only prints the hash it would have (for CI cache keys) and builds nothing.
 */
export async function runSnapshot(cli: CliContext, name: string | undefined, sql: string[], printHash = false): Promise<number> {
  if (!name || sql.length === 0) throw new UsageError('Usage: pgbranch snapshot NAME --sql PATH [--sql PATH…] [--print-hash] (SQL files or directories, run in order).');
  if (printHash) {
    return withNamed(cli, async (_named, engine) => {
      const hash = await engine.snapshotHash({ name, sql, baseDir: process.cwd() });
      cli.out(cli.json ? JSON.stringify({ name, hash }) : hash);
      return 0;
    }, undefined, 'read');
  }
  return withNamed(cli, async (_named, engine) => {
    const t0 = performance.now();
    const snap = await engine.snapshot({ name, sql, baseDir: process.cwd() });
    const seconds = (performance.now() - t0) / 1000;
    if (cli.json) cli.out(JSON.stringify({ name: snap.name, hash: snap.hash, reused: snap.reused, origin: snap.origin, sizeBytes: snap.sizeBytes, seconds }));
    else cli.out(`snapshot ${snap.name} ${snap.hash} ${snap.origin === 'built' ? `built in ${seconds.toFixed(1)} s` : snap.origin === 'registry' ? `(pulled from the registry in ${seconds.toFixed(1)} s)` : '(reused from the cache)'}, ${(snap.sizeBytes / 1e6).toFixed(0)} MB`);
    return 0;
  });
}

export interface CreateArgs {
  name?: string;
  from?: string;
  sql: string[];
  ttl?: string;
  labels: string[];
  suspended: boolean;
}

/** `pgbranch create NAME --from SNAPSHOT|BRANCH` (or `--sql PATH…`): a named branch, running unless `--suspended`. */
export async function runCreate(cli: CliContext, args: CreateArgs): Promise<number> {
  if (!args.name || (!args.from && args.sql.length === 0)) {
    throw new UsageError('Usage: pgbranch create NAME --from SNAPSHOT|BRANCH [--ttl 2h] [--label key=value…] [--suspended], or --sql PATH… instead of --from.');
  }
  const ttlMs = args.ttl !== undefined ? parseTtl(args.ttl) : undefined; // checked before anything is made
  const labels = parseLabels(args.labels);
  return withNamed(cli, async (named, engine) => {
    const from = await resolveSource(named, engine, args);
    const info = await named.create(args.name!, from, { ttlMs, labels, start: !args.suspended });
    printBranch(cli, info);
    return 0;
  });
}

async function resolveSource(named: NamedBranches, engine: Engine, args: CreateArgs): Promise<Snapshot | string> {
  if (args.sql.length > 0) return engine.snapshot({ name: args.from ?? path.basename(path.resolve(args.sql[0]!)), sql: args.sql, baseDir: process.cwd() });
  const source = args.from!;
  if ((await named.list()).some((b) => b.name === source)) return source;
  const snap = await engine.storedSnapshot(source);
  if (snap) return snap;
  const names = [...new Set((await engine.storedSnapshots()).filter((m) => m.kind === 'recipe').flatMap((m) => [m.name, ...(m.names ?? [])]))];
  throw new UsageError(
    `No branch or snapshot called "${source}" in ${engine.info().cacheDir}` +
      `${names.length ? ` (snapshots: ${names.join(', ')})` : ''}; build one with \`pgbranch snapshot ${source} --sql PATH\`.`,
  );
}

/** Every named branch of the cache directory, whichever driver runs it (only `--driver`'s when given). */
async function listAll(cli: CliContext): Promise<{ list: NamedBranchInfo[]; notes: string[] }> {
  if (cli.driver) return { list: await withNamed(cli, (named) => named.list(), undefined, 'read'), notes: [] };
  const records = await recordedDrivers(path.join(resolveOptions({ cacheDir: cli.cacheDir }).cacheDir, 'named'));
  const list: NamedBranchInfo[] = [];
  const notes: string[] = [];
  for (const record of records) {
    const options = engineOptionsOf(cli.cacheDir, record);
    try {
      const engine = await openEngine(options, 'read');
      try {
        list.push(...(await engine.named().list()));
      } finally {
        await engine.close();
      }
    } catch (err) {
      notes.push(`branches of the ${record.driver} driver not listed: ${describeCause(err)}`);
    }
  }
  // Engines of one driver that differ only in settings (or in how an older record named the same Docker engine)
  // each list every branch they run: one line per branch.
  const unique = [...new Map(list.map((b) => [b.name, b])).values()];
  return { list: unique.sort((a, b) => a.name.localeCompare(b.name)), notes };
}

/** `pgbranch ls`: every named branch with its state. */
export async function runList(cli: CliContext): Promise<number> {
  const { list, notes } = await listAll(cli);
  for (const note of notes) process.stderr.write(`pgbranch: ${note}\n`);
  if (cli.json) {
    cli.out(JSON.stringify(list));
    return 0;
  }
  if (list.length === 0) {
    cli.out('no named branches (pgbranch create NAME --from SNAPSHOT makes one)');
    return 0;
  }
  const rows = list.map((b) => [
    b.name,
    b.state + (b.connections ? ` (${b.connections} conn)` : ''),
    b.fromBranch ? `${b.fromBranch} (branch)` : b.snapshot.name,
    b.port ? String(b.port) : '-',
    ago(b.lastUsedAt),
    b.expiresAt ? (b.expired ? 'expired' : `in ${until(b.expiresAt)}`) : '-',
    Object.entries(b.labels).map(([k, v]) => `${k}=${v}`).join(',') || '-',
  ]);
  table(cli, ['NAME', 'STATE', 'FROM', 'PORT', 'LAST USED', 'EXPIRES', 'LABELS'], rows);
  for (const b of list.filter((x) => x.problem)) cli.out(`${b.name}: ${b.problem}`);
  return 0;
}

/** `pgbranch url NAME`: the connection URL (with the password: this is what the user asked for). */
export async function runUrl(cli: CliContext, name: string | undefined): Promise<number> {
  return withNamed(cli, async (named) => {
    const info = await named.get(required(name, 'url'));
    if (info.state === 'broken' || info.state === 'creating' || !info.port) {
      // A broken branch has no server and maybe no port: an address would only fail later, far from the cause.
      throw new BranchBrokenError(
        `Branch "${info.name}" is ${info.state} and has no URL${info.problem ? `: ${info.problem}` : ''}. ` +
          `\`pgbranch gc\` (or \`pgbranch rm ${info.name}\`) removes it; then create it again.`,
      );
    }
    cli.out(cli.json ? JSON.stringify({ name: info.name, url: named.url(info), state: info.state }) : named.url(info));
    return 0;
  }, name, 'read');
}

/** `pgbranch reset|suspend|resume|rm NAME`. */
export async function runBranchAction(cli: CliContext, action: 'reset' | 'suspend' | 'resume' | 'rm', name: string | undefined): Promise<number> {
  return withNamed(cli, async (named) => {
    const branch = required(name, action);
    if (action === 'rm') {
      await named.destroy(branch);
      cli.out(cli.json ? JSON.stringify({ name: branch, removed: true }) : `removed ${branch}`);
      return 0;
    }
    const t0 = performance.now();
    const info = await named[action](branch);
    const ms = performance.now() - t0;
    if (cli.json) cli.out(JSON.stringify({ ...info, ms }));
    else cli.out(`${branch}: ${info.state} (${action} took ${ms.toFixed(0)} ms)`);
    return 0;
  }, name, action === 'rm' || action === 'suspend' ? 'maintain' : 'build');
}

function printBranch(cli: CliContext, info: NamedBranchInfo): void {
  if (cli.json) cli.out(JSON.stringify(info));
  else cli.out(`${info.name}: ${info.state} on ${info.host ?? '127.0.0.1'}:${info.port}, from ${info.fromBranch ?? info.snapshot.name}${info.expiresAt ? `, expires ${info.expiresAt}` : ''} (pgbranch url ${info.name} prints its URL)`);
}

function parseLabels(labels: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const label of labels) {
    const i = label.indexOf('=');
    if (i <= 0) throw new UsageError(`--label needs key=value, got "${label}".`);
    out[label.slice(0, i)] = label.slice(i + 1);
  }
  return out;
}

function required(name: string | undefined, command: string): string {
  if (!name) throw new UsageError(`Usage: pgbranch ${command} NAME (pgbranch ls lists the branches).`);
  return name;
}

function table(cli: CliContext, head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [head, ...rows]) cli.out(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
}

function ago(iso: string): string {
  return `${human(Date.now() - Date.parse(iso))} ago`;
}
function until(iso: string): string {
  return human(Date.parse(iso) - Date.now());
}
function human(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s}s`;
  if (s < 90 * 60) return `${Math.round(s / 60)}m`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}
