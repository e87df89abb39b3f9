#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { PgbranchError, UsageError } from '../errors.js';
import { runDoctor } from './doctor.js';
import { runGc } from './gc.js';
import { runBench } from './bench.js';
import { runBranchAction, runCreate, runList, runSnapshot, runUrl } from './branches.js';
import { runServe } from './serve.js';
import { BranchNotFoundError } from '../named/named-branches.js';

const USAGE = `pgbranch: copy-on-write PostgreSQL branches

Usage:
  pgbranch snapshot NAME --sql PATH…          build (or find) a snapshot of SQL files/directories
  pgbranch create NAME --from SNAPSHOT|BRANCH a named branch, running; or --sql PATH… to snapshot and branch at once
                  [--ttl 2h] [--label k=v…] [--suspended]
  pgbranch ls                                 named branches: state (running, idle, suspended), port, last use, expiry
  pgbranch url NAME                           the branch's connection URL (includes the password)
  pgbranch reset NAME                         back to the branch's snapshot, same URL
  pgbranch suspend NAME                       stop the server, keep the data
  pgbranch resume NAME                        start it again on the same URL
  pgbranch rm NAME                            stop and remove the branch
  pgbranch serve [--idle-after 5m] [--suspend-after 15m] [--interval 1s]
                                              keeper: suspends idle branches, removes expired ones, wakes on connect
  pgbranch gc [--keep N] [--max-age-days D]   remove what dead processes left, expired/broken branches, and
                                              snapshots (and Docker snapshot images) beyond the newest N (20) or older than D days (30)
  pgbranch doctor                             what the engine would choose here, and what is missing
  pgbranch bench [--full] [--scenario NAME]   run the benchmarks (inside a pgbranch checkout)

Options:
  --cache-dir DIR   cache directory (default: PGBRANCH_CACHE_DIR, else node_modules/.cache/pgbranch)
  --driver D        local (Postgres processes; the default when binaries exist) or docker (containers)
  --json            machine-readable output
  -h, --help        this help

Exit codes: 0 done, 1 failed (the message says why and what to do), 2 bad usage, 3 no such branch.
`;

async function main(argv: string[]): Promise<number> {
  const first = argv.findIndex((a) => !a.startsWith('-'));
  if (argv[first] === 'bench') return runBench(argv.slice(first + 1)); // its own options
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'cache-dir': { type: 'string' },
      driver: { type: 'string' },
      json: { type: 'boolean', default: false },
      keep: { type: 'string' },
      'max-age-days': { type: 'string' },
      from: { type: 'string' },
      sql: { type: 'string', multiple: true, default: [] },
      ttl: { type: 'string' },
      label: { type: 'string', multiple: true, default: [] },
      suspended: { type: 'boolean', default: false },
      'idle-after': { type: 'string' },
      'suspend-after': { type: 'string' },
      interval: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, name, extra] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return command || values.help ? 0 : 2;
  }
  if (extra !== undefined) throw new UsageError(`Unexpected argument "${extra}".`);
  const common = { cacheDir: values['cache-dir'], json: values.json };
  const driver = values.driver as 'local' | 'docker' | 'auto' | undefined;
  if (driver && !['local', 'docker', 'auto'].includes(driver)) throw new UsageError(`--driver is local, docker or auto, not "${driver}".`);
  const cli = { ...common, driver, out: (line: string) => void process.stdout.write(`${line}\n`) };
  switch (command) {
    case 'doctor':
      return runDoctor(common);
    case 'gc':
      return runGc({ ...common, keep: numberOption(values.keep, 'keep'), maxAgeDays: numberOption(values['max-age-days'], 'max-age-days') });
    case 'snapshot':
      return runSnapshot(cli, name, values.sql);
    case 'create':
      return runCreate(cli, { name, from: values.from, sql: values.sql, ttl: values.ttl, labels: values.label, suspended: values.suspended });
    case 'ls':
      return runList(cli);
    case 'url':
      return runUrl(cli, name);
    case 'reset':
    case 'suspend':
    case 'resume':
    case 'rm':
      return runBranchAction(cli, command, name);
    case 'serve':
      return runServe(cli, { idleAfter: values['idle-after'], suspendAfter: values['suspend-after'], interval: values.interval });
    default:
      process.stderr.write(`pgbranch: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

// `pgbranch gc | head` closes the pipe early; that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

function numberOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} needs a number ≥ 0, got "${value}".`);
  return n;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    const known = err instanceof PgbranchError;
    const usage = err instanceof UsageError || (err as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`pgbranch: ${known ? `${err.message} [${err.code}]` : usage ? (err as Error).message : (err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = err instanceof BranchNotFoundError ? 3 : usage ? 2 : known ? 1 : 70;
  },
);
