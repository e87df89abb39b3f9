#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { PgbranchError, UsageError } from '../errors.js';
import { runDoctor } from './doctor.js';
import { runGc } from './gc.js';

const USAGE = `pgbranch: copy-on-write PostgreSQL branches for tests

Usage:
  pgbranch doctor [--cache-dir DIR] [--json]   what the engine would choose here, and what is missing
  pgbranch gc     [--cache-dir DIR] [--json]   stop and remove what dead processes left in the cache;
                  [--keep N] [--max-age-days D]  prune Docker snapshot images beyond the newest N (20) or older than D days (30)

Options:
  --cache-dir DIR   cache directory (default: PGBRANCH_CACHE_DIR, else node_modules/.cache/pgbranch)
  --json            machine-readable output
  -h, --help        this help
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'cache-dir': { type: 'string' },
      json: { type: 'boolean', default: false },
      keep: { type: 'string' },
      'max-age-days': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return command || values.help ? 0 : 2;
  }
  const common = { cacheDir: values['cache-dir'], json: values.json };
  switch (command) {
    case 'doctor':
      return runDoctor(common);
    case 'gc':
      return runGc({ ...common, keep: numberOption(values.keep, 'keep'), maxAgeDays: numberOption(values['max-age-days'], 'max-age-days') });
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
    process.stderr.write(`pgbranch: ${known ? `${err.message} [${err.code}]` : (err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = known ? 1 : 70;
  },
);
