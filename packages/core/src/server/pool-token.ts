import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The secret a pool server asks of every connection before it serves anything: a lease carries a
 * superuser URL with its password, and the server's socket (or 127.0.0.1 port) is reachable by other
 * local users. Only the runner that started the server hands it to its workers.
 */
export function createPoolToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Whether `given` is the token, compared in constant time (over digests, so lengths do not show either). */
export function tokenMatches(token: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  return timingSafeEqual(digest(token), digest(given));
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** How long a connection may stay open without saying hello. */
export const HELLO_TIMEOUT_MS = 10_000;
