#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { describeCause, PgbranchError, UsageError } from '../errors.js';
import { runDoctor } from './doctor.js';
import { runGc } from './gc.js';
import { runBench } from './bench.js';
import { runBranchAction, runCreate, runList, runSnapshot, runUrl } from './branches.js';
import { runServe } from './serve.js';
import { runDiff, runMerge } from './diff.js';
import { runExport, runImport } from './snapshot-files.js';
import { commandHelp, packageVersion, USAGE } from './help.js';
import { BranchNotFoundError } from '../named/named-branches.js';
import { assertDriverName, type DriverChoice } from '../drivers/registry.js';

async function main(argv: string[]): Promise<number> {
  const first = argv.findIndex((a) => !a.startsWith('-'));
  if (argv[first] === 'bench') {
    if (argv.includes('--help') || argv.includes('-h')) return print(commandHelp('bench')!);
    return runBench(argv.slice(first + 1)); // its own options
  }
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'cache-dir': { type: 'string' },
      driver: { type: 'string' },
      json: { type: 'boolean', default: false },
      keep: { type: 'string' },
      accounts: { type: 'boolean', default: false },
      'max-age-days': { type: 'string' },
      from: { type: 'string' },
      sql: { type: 'string', multiple: true, default: [] },
      ttl: { type: 'string' },
      label: { type: 'string', multiple: true, default: [] },
      suspended: { type: 'boolean', default: false },
      'idle-after': { type: 'string' },
      'suspend-after': { type: 'string' },
      interval: { type: 'string' },
      output: { type: 'string', short: 'o' },
      'print-hash': { type: 'boolean', default: false },
      rows: { type: 'string' },
      into: { type: 'string' },
      strategy: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      version: { type: 'boolean', short: 'v', default: false },
    },
  });
  const [command, name, ...rest] = positionals;
  // `snapshot export|import …` unless --sql is given: with it, "export" and "import" are snapshot names like any.
  const snapshotFiles = command === 'snapshot' && (name === 'export' || name === 'import') && values.sql.length === 0 ? name : undefined;
  const extra = rest[snapshotFiles || command === 'diff' ? 1 : 0];
  if (values.version) return print(`pgbranch ${packageVersion()}\n`);
  if (command === 'help') return name && !commandHelp(name) ? unknownCommand(name) : print(name ? commandHelp(name)! : USAGE);
  if (values.help && command) return commandHelp(command) ? print(commandHelp(command)!) : unknownCommand(command);
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return values.help ? 0 : 2;
  }
  if (extra !== undefined) throw new UsageError(`Unexpected argument "${extra}".`);
  const common = { cacheDir: values['cache-dir'], json: values.json };
  const driver = values.driver as DriverChoice | undefined;
  if (driver) assertDriverName(driver);
  const cli = { ...common, driver, out: (line: string) => void process.stdout.write(`${line}\n`) };
  switch (command) {
    case 'doctor':
      return runDoctor(common);
    case 'gc':
      return runGc({ ...common, keep: numberOption(values.keep, 'keep'), maxAgeDays: numberOption(values['max-age-days'], 'max-age-days'), accounts: values.accounts });
    case 'snapshot':
      if (snapshotFiles === 'export') return runExport(cli, rest[0], values.output);
      if (snapshotFiles === 'import') return runImport(cli, rest[0]);
      return runSnapshot(cli, name, values.sql, values['print-hash']);
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
    case 'diff':
      return runDiff(cli, name, rest[0], numberOption(values.rows, 'rows'));
    case 'merge':
      return runMerge(cli, name, values.into, values.strategy, values['dry-run']);
    case 'serve':
      return runServe(cli, { idleAfter: values['idle-after'], suspendAfter: values['suspend-after'], interval: values.interval });
    default:
      return unknownCommand(command);
  }
}

function print(text: string): number {
  process.stdout.write(text);
  return 0;
}

function unknownCommand(command: string): number {
  if (wantsJson(process.argv.slice(2))) process.stdout.write(`${JSON.stringify({ error: { code: 'PGBRANCH_USAGE', message: `unknown command "${command}"` } })}\n`);
  else process.stderr.write(`pgbranch: unknown command "${command}"\n\n${USAGE}`);
  return 2;
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
    const exitCode = err instanceof BranchNotFoundError ? 3 : usage ? 2 : known ? 1 : 70;
    const message = known || usage ? (err as Error).message : describeCause(err);
    if (wantsJson(process.argv.slice(2))) {
      // Tools read one JSON document on stdout whatever happened; the exit code says the same as without --json.
      const code = known ? err.code : usage ? 'PGBRANCH_USAGE' : 'PGBRANCH_INTERNAL';
      process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
    } else {
      process.stderr.write(`pgbranch: ${known ? `${err.message} [${err.code}]` : usage ? message : (err as Error)?.stack ?? String(err)}\n`);
    }
    process.exitCode = exitCode;
  },
);

/** `--json` anywhere before a `--` (parseArgs may have failed on another option, so the raw arguments decide). */
function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}
