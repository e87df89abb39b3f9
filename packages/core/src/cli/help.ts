import { readFileSync } from 'node:fs';
import { DRIVERS } from '../drivers/registry.js';

/** The package version (`pgbranch --version`), read from the package.json shipped beside dist/. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** The --driver option, listing every registered driver. */
const DRIVER_OPTION = [
  '  --driver D        auto (the default: local when Postgres binaries exist, else docker), or one of:',
  ...DRIVERS.map((d) => `                      ${d.name.padEnd(9)} ${d.summary}`),
].join('\n');

const COMMON = `
Options every command takes:
  --cache-dir DIR   cache directory (default: PGBRANCH_CACHE_DIR, else node_modules/.cache/pgbranch)
${DRIVER_OPTION}
  --json            machine-readable output; errors too: {"error": {"code", "message"}} on stdout
  -h, --help        this help
`;

const TTL = `  --ttl DURATION    removed by \`pgbranch gc\` or \`pgbranch serve\` this long after creation: a number with a unit
                    (s, m, h, d), between 1m and 365d, e.g. 30m, 2h, 7d; or "never" (the default: no expiry)`;

/** Each command's own help (`pgbranch COMMAND --help`, `pgbranch help COMMAND`). */
export const COMMAND_HELP: Record<string, string> = {
  snapshot: `Usage: pgbranch snapshot NAME --sql PATH [--sql PATH…] [--print-hash]
       pgbranch snapshot export NAME|HASH -o FILE
       pgbranch snapshot import FILE

Builds (or finds in the cache) a snapshot of SQL files and directories, run in order, and prints its hash.
The same recipe under another NAME reuses the cached snapshot and adds NAME to it. The hash is the same on
every machine for the same recipe and Postgres build (the same binaries, or the same Docker image).

  --sql PATH        an SQL file or a directory (its .sql files, recursively, in lexical order); repeatable
  --print-hash      print only the hash the snapshot has (or would have), build nothing: a CI cache key

export writes a stored snapshot (by name or hash prefix) to FILE as a portable archive (gzip'd tar with a sha256
digest), replacing FILE only once it is complete; -o - writes to stdout. import stores the snapshot of an archive
(- reads stdin) under its hash, with this cache directory's password; a machine running the same Postgres build
then finds it instead of seeding it. A snapshot named "export" or "import" is built with --sql as usual
(the subcommands take no --sql), and exported with \`pgbranch snapshot export export -o FILE\`.

  -o, --output FILE the archive to write (export)
`,
  create: `Usage: pgbranch create NAME --from SNAPSHOT|BRANCH [--ttl DURATION] [--label KEY=VALUE…] [--suspended]
       pgbranch create NAME --sql PATH… [--from SNAPSHOT-NAME] …

Makes a named branch that outlives this process, running unless --suspended: from a snapshot in the cache,
from another named branch (as it is right now), or from SQL files (snapshotted first).

  --from NAME       a snapshot (name or hash prefix) or a named branch
  --sql PATH        snapshot these SQL files/directories and branch that; repeatable
${TTL}
  --label KEY=VALUE shown by \`pgbranch ls\`; repeatable
  --suspended       create it stopped (costs disk only; \`pgbranch resume\` starts it)
`,
  ls: `Usage: pgbranch ls

Lists the named branches: name, state (running, idle, suspended, broken), where from, port, last use, expiry, labels.
`,
  url: `Usage: pgbranch url NAME

Prints the branch's connection URL, including its password (the only command that prints one).
`,
  reset: `Usage: pgbranch reset NAME

Throws away every change: the branch goes back to the state it was created from, on the same URL, running.
`,
  suspend: `Usage: pgbranch suspend NAME

Stops the branch's server cleanly and keeps its data; it costs disk only until \`pgbranch resume\`.
`,
  resume: `Usage: pgbranch resume NAME

Starts a suspended branch again on the same URL with its data (also recovers a branch whose server died).
`,
  diff: `Usage: pgbranch diff NAME [OTHER] [--rows N] [--json]

What NAME changed since its snapshot; with OTHER (another named branch, or a snapshot NAME descends from), what
differs from OTHER to NAME. Schema: tables, columns, constraints, indexes, functions, views, triggers, types,
sequences, extensions added, dropped or changed. Rows: inserted, updated, deleted per table, matched by primary key
(tables without one: by whole-row content, and said so), with the first N rows (values of columns named like
password, secret, token, api_key or *_hash shown as [redacted]). Only pages changed since the common snapshot are
read, so a small change in a big database is quick. Suspended branches are started.

  --rows N          changed rows shown per table (default 10; 100 with --json)
`,
  merge: `Usage: pgbranch merge SOURCE --into TARGET [--strategy ours|theirs] [--dry-run] [--json]

Brings SOURCE's changes into TARGET. When TARGET changed nothing since their newest common snapshot, TARGET takes
SOURCE's state (a fast-forward: a copy-on-write clone, TARGET's URL unchanged). Otherwise a three-way merge:
rows and schema objects changed on SOURCE only are applied to TARGET in one transaction (schema first, in
dependency order; triggers do not fire; sequences move forward); the same row or object changed differently on
both is a conflict, listed with its base, ours (TARGET) and theirs (SOURCE) values, and nothing is applied (exit 1)
unless --strategy says whose change wins. A merge that fails or is interrupted leaves TARGET as it was.

  --into TARGET     the branch that receives the changes
  --strategy S      ours: keep TARGET's side of every conflict; theirs: take SOURCE's
  --dry-run         show the plan (and conflicts) without changing anything
`,
  rm: `Usage: pgbranch rm NAME

Stops the branch and removes it with its data.
`,
  serve: `Usage: pgbranch serve [--idle-after 5m] [--suspend-after 15m] [--interval 1s]

The keeper, in the foreground until Ctrl-C: suspends idle branches, removes expired ones, and wakes a suspended
branch when a client connects to its port. Durations need a unit (ms, s, m, h, d).

  --idle-after D    no client connection for this long: shown as idle (default 5m)
  --suspend-after D no client connection for this long: suspended (default 15m)
  --interval D      how often it looks (default 1s)
`,
  gc: `Usage: pgbranch gc [--keep N] [--max-age-days D] [--accounts]

Removes what dead processes left (servers, mounts, directories, containers), expired and broken named branches,
and snapshots (local and Docker images) beyond the newest N or older than D days that no named branch uses.
Prints what it removed and the size of the removed files.

  --keep N          snapshots to keep (default 20)
  --max-age-days D  snapshots older than this are removed (default 30)
  --accounts        also remove the server accounts (pgb-…, as root) whose cache directory is gone
`,
  doctor: `Usage: pgbranch doctor

Shows what the engine would choose here (binaries, server user, cache directory, every cloner probe, Docker) and what is missing.
`,
  bench: `Usage: pgbranch bench [--full] [--scenario ID…] [--list]

Runs the benchmarks of a pgbranch checkout (from inside it); --list shows the scenarios.
`,
};

/** Help for one command, or undefined for an unknown one. */
export function commandHelp(command: string): string | undefined {
  const text = COMMAND_HELP[command];
  return text && (command === 'bench' ? text : text + COMMON);
}

export const USAGE = `pgbranch: copy-on-write PostgreSQL branches

Usage:
  pgbranch snapshot NAME --sql PATH…          build (or find) a snapshot of SQL files/directories
                  [--print-hash]              only print its hash (a CI cache key), build nothing
  pgbranch snapshot export NAME|HASH -o FILE  write a stored snapshot to a portable archive (-o - for stdout)
  pgbranch snapshot import FILE               store the snapshot of an archive (- for stdin)
  pgbranch create NAME --from SNAPSHOT|BRANCH a named branch, running; or --sql PATH… to snapshot and branch at once
                  [--ttl 2h|never] [--label k=v…] [--suspended]
  pgbranch ls                                 named branches: state (running, idle, suspended), port, last use, expiry
  pgbranch url NAME                           the branch's connection URL (includes the password)
  pgbranch reset NAME                         back to the branch's snapshot, same URL
  pgbranch suspend NAME                       stop the server, keep the data
  pgbranch resume NAME                        start it again on the same URL
  pgbranch rm NAME                            stop and remove the branch
  pgbranch diff NAME [OTHER] [--rows N]       what NAME changed since its snapshot (or from OTHER): schema and rows
  pgbranch merge SOURCE --into TARGET         bring SOURCE's changes into TARGET: fast-forward, else three-way
                  [--strategy ours|theirs] [--dry-run]
  pgbranch serve [--idle-after 5m] [--suspend-after 15m] [--interval 1s]
                                              keeper: suspends idle branches, removes expired ones, wakes on connect
  pgbranch gc [--keep N] [--max-age-days D] [--accounts]
                                              remove what dead processes left, expired/broken branches, and
                                              snapshots (and Docker snapshot images) beyond the newest N (20) or older than D days (30);
                                              --accounts: server accounts whose cache directory is gone
  pgbranch doctor                             what the engine would choose here, and what is missing
  pgbranch bench [--full] [--scenario NAME]   run the benchmarks (inside a pgbranch checkout)
  pgbranch help [COMMAND]                     this help, or a command's own (also: pgbranch COMMAND --help)

Options:
  --cache-dir DIR   cache directory (default: PGBRANCH_CACHE_DIR, else node_modules/.cache/pgbranch)
${DRIVER_OPTION}
  --json            machine-readable output; errors too: {"error": {"code", "message"}} on stdout
  -h, --help        this help
  -v, --version     the version of pgbranch

Durations take a unit: ms, s, m, h or d (90s, 30m, 2h, 7d).
Exit codes: 0 done, 1 failed (the message says why and what to do), 2 bad usage, 3 no such branch.
`;
