import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { scramVerifier } from '../cache/scram-verifier.js';
import { SUPERUSER } from '../snapshot/postgres-settings.js';

/** Where a named branch's own superuser password is kept: in its record directory, readable by its owner only. */
export function passwordFile(branchDir: string): string {
  return path.join(branchDir, 'password');
}

/** Makes a new random password for a branch being created (replacing any left by a half-made one). */
export async function newBranchPassword(branchDir: string): Promise<string> {
  const password = randomBytes(18).toString('base64url');
  await writeFile(passwordFile(branchDir), password + '\n', { mode: 0o600 });
  return password;
}

/**
 * The password the data a branch was made from carries, when that is not the cache's: a branch made from another
 * named branch starts with that branch's password until it gets its own (also after each reset).
 */
function parentPasswordFile(branchDir: string): string {
  return path.join(branchDir, 'parent-password');
}

export async function writeParentPassword(branchDir: string, password: string): Promise<void> {
  await writeFile(parentPasswordFile(branchDir), password + '\n', { mode: 0o600 });
}

export function readParentPassword(branchDir: string): string | undefined {
  try {
    return readFileSync(parentPasswordFile(branchDir), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The branch's own password, or undefined when it has none (a branch made before branches had their own). */
export function readBranchPassword(branchDir: string): string | undefined {
  try {
    return readFileSync(passwordFile(branchDir), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Replaces the superuser's password in a freshly cloned branch (which still carries its snapshot's, shared by
 * the whole cache) by the branch's own. The server gets a SCRAM verifier computed here, never the password
 * itself, so it cannot show up in a server log; one round trip on a connection made with `admin`.
 */
export async function applyBranchPassword(admin: pg.ClientConfig, password: string): Promise<void> {
  const client = new pg.Client({ ...admin, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    // Flushed at commit even with the test-friendly synchronous_commit=off: a server stopped right after keeps it.
    await client.query(`SET synchronous_commit = on; ALTER ROLE ${SUPERUSER} PASSWORD '${scramVerifier(password)}'`);
  } finally {
    await client.end().catch(() => undefined);
  }
}
