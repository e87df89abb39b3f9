import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/**
 * PBKDF2 iterations of the SCRAM verifiers pgbranch stores. Postgres defaults to 4096 to slow down guessing of
 * passwords people choose; every password pgbranch sets is 18 random bytes (144 bits), which no iteration count
 * makes more or less guessable. At 4096 each connection costs ~1 ms of CPU in the server and ~3 ms in
 * node-postgres, paid again by every connection a test suite opens; at this count both are negligible.
 */
export const SCRAM_ITERATIONS = 256;

/**
 * `SCRAM-SHA-256$iterations:salt$StoredKey:ServerKey` (RFC 5802/7677), the form Postgres stores. Given to
 * `ALTER ROLE … PASSWORD` or initdb's `--pwfile`, it is stored as it is: the server never sees the password.
 */
export function scramVerifier(password: string, salt = randomBytes(16)): string {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, SCRAM_ITERATIONS, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${SCRAM_ITERATIONS}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
