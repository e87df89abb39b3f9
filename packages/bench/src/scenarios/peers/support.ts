import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { ConnectionOptions } from '@pgbranch/core';

/** The query every method ends with: the fresh database is usable once it returns. */
export const QUERY = 'select count(*) from documents';
const NO_TRANSACTION = /^\s*--\s*pgbranch:\s*no-transaction\b/i;

export type CleanupFn = () => Promise<unknown> | unknown;
/** Registers a cleanup that runs after a sample's clock stops (and on failure). */
export type Defer = (fn: CleanupFn) => void;

/** One fixture file, and whether it is sent inside BEGIN/COMMIT (as pgbranch seeds it). */
export interface SqlFile {
  name: string;
  text: string;
  inTransaction: boolean;
}

export async function readFixture(dir: string): Promise<SqlFile[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.sql')).sort();
  return Promise.all(
    names.map(async (name) => {
      const text = await readFile(path.join(dir, name), 'utf8');
      return { name, text, inTransaction: !NO_TRANSACTION.test(text) };
    }),
  );
}

/** pg connect + one query; the connection is closed by the caller's cleanup, after the clock stops. */
export async function queryOnce(options: ConnectionOptions, defer: Defer, sql = QUERY): Promise<void> {
  const client = new pg.Client(options);
  defer(() => client.end());
  await client.connect();
  await client.query(sql);
}

/** Runs cleanups in reverse order; failures are recorded, never thrown. */
export async function runCleanups(fns: CleanupFn[], errors: string[]): Promise<void> {
  for (const fn of fns.reverse()) {
    try {
      await fn();
    } catch (err) {
      errors.push(`cleanup failed: ${describe(err)}`);
    }
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function removeLabelledContainers(label: string): Promise<void> {
  const exec = promisify(execFile);
  const { stdout } = await exec('docker', ['ps', '-aq', '--filter', `label=${label}`]);
  const ids = stdout.split('\n').filter(Boolean);
  if (ids.length > 0) await exec('docker', ['rm', '-f', '-v', ...ids]);
}

/** The first line of an error's message, short enough for a note. */
export function describe(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300);
}
