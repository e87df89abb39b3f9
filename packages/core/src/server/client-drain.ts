import { readFile } from 'node:fs/promises';
import pg from 'pg';
import type { Branch } from '../branch/branch.js';
import { describeCause } from '../errors.js';
import { logger } from '../log.js';

const log = logger('server');

/**
 * The client backends other than the asking one (the test file's own connections), of one database when given (a
 * shared server's branch): a query's FROM … WHERE part and its parameters.
 */
function clientBackends(database: string | undefined): { from: string; values: string[] } {
  const from = "from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()";
  return database === undefined ? { from, values: [] } : { from: `${from} and datname = $1`, values: [database] };
}
/** A client backend's process title: `postgres: USER DATABASE HOST(PORT) …` or `… [local] …` (auxiliary processes differ). */
const CLIENT_TITLE = /^postgres: (?:\S+: )?\S+ (\S+) (?:\[local\]|\S+\(\d+\))/;

type Counter = { count(): Promise<number>; close(): Promise<void> };

/**
 * Waits until a released branch has no client connections left, for at most `timeoutMs`, and returns
 * how many were still open then (0 when they all went away).
 *
 * A file's cleanup often runs unawaited (`afterAll(() => { pool.end() })`): its last queries are still
 * in flight when the file ends. Destroying the branch at once would answer them with a shutting-down
 * server. How the clients are counted: for a local server, its postmaster's children whose process
 * title is a client backend's (read from /proc: no connection, well under a millisecond); elsewhere
 * (containers, no /proc) `pg_stat_activity` over one connection, whose first query on a fresh backend
 * costs ~10–15 ms here.
 */
export async function drainClients(branch: Branch, timeoutMs: number): Promise<number> {
  if (timeoutMs <= 0) return 0;
  const deadline = performance.now() + timeoutMs;
  let counter: Counter | undefined;
  try {
    // A branch that is one database of a shared server (template driver) counts only its own database's clients.
    const only = ownDatabase(branch);
    counter = (await processCounter(branch.pid, only)) ?? (await sqlCounter(branch, timeoutMs, only));
    let pause = 2;
    for (;;) {
      const open = await counter.count();
      if (open === 0 || performance.now() >= deadline) return open;
      await new Promise((r) => setTimeout(r, Math.min(pause, Math.max(1, deadline - performance.now()))));
      pause = Math.min(pause * 2, 50);
    }
  } catch (err) {
    // Unreachable (suspended, crashed): nothing to wait for.
    log('counting the clients of %s: %s', branch.name, describeCause(err));
    return 0;
  } finally {
    await counter?.close();
  }
}

/** Counts a local postmaster's client backends through /proc, or undefined where that cannot work. */
async function processCounter(pid: number | undefined, database: string | undefined): Promise<Counter | undefined> {
  if (pid === undefined) return undefined;
  const children = `/proc/${pid}/task/${pid}/children`;
  const count = async (): Promise<number> => {
    const pids = (await readFile(children, 'utf8')).split(' ').filter(Boolean);
    const titles = await Promise.all(pids.map((child) => readFile(`/proc/${child}/cmdline`, 'utf8').catch(() => ''))); // exited meanwhile
    return titles.filter((t) => {
      const client = CLIENT_TITLE.exec(t.replaceAll('\0', ' '));
      return client !== null && (database === undefined || client[1] === database);
    }).length;
  };
  try {
    await count();
  } catch {
    return undefined; // no /proc, or no children file (kernel without CONFIG_PROC_CHILDREN)
  }
  return { count, close: async () => undefined };
}

/** Counts client backends in pg_stat_activity over one connection (the unix socket where the driver offers one). */
async function sqlCounter(branch: Branch, timeoutMs: number, database: string | undefined): Promise<Counter> {
  const client = new pg.Client(
    { ...branch.adminConnection(), connectionTimeoutMillis: timeoutMs },
  );
  client.on('error', () => undefined); // the branch may go away meanwhile: the awaited calls reject
  await client.connect();
  return {
    count: async () => {
      const { from, values } = clientBackends(database);
      return (await client.query<{ n: number }>(`select count(*)::int as n ${from}`, values)).rows[0]!.n;
    },
    close: () => client.end().catch(() => undefined),
  };
}

/**
 * Ends a branch's client sessions the way Postgres tells clients (FATAL 57P01, "terminating connection due to
 * administrator command"), before its server is stopped: a client killed by the server's immediate shutdown may
 * instead see a bare ECONNRESET, which says nothing of whose socket it was and reaches the test file as an unhandled
 * rejection. Best effort: the server stops right after anyway.
 */
export async function endClients(branch: Branch): Promise<void> {
  const client = new pg.Client({ ...branch.adminConnection(), connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { from, values } = clientBackends(ownDatabase(branch));
    await client.query(`select pg_terminate_backend(pid, 1000) ${from}`, values);
  } catch (err) {
    log('ending the clients of %s: %s', branch.name, describeCause(err));
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The branch's database when its server is shared (only its clients are the file's), else undefined (all of them). */
function ownDatabase(branch: Branch): string | undefined {
  return branch.sharesServer ? branch.address().database : undefined;
}
