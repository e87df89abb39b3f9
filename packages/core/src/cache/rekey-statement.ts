import { scramVerifier } from './scram-verifier.js';
import { SUPERUSER } from '../snapshot/postgres-settings.js';

/**
 * The statement that gives an imported snapshot this cache directory's superuser password, run in single-user
 * mode (`postgres --single`) before the snapshot is stored. The password goes in as its SCRAM verifier, which
 * Postgres stores as it is: the password itself never reaches the server, a file or a log.
 */
export function rekeyStatement(password: string): string {
  return `ALTER ROLE ${SUPERUSER} PASSWORD '${scramVerifier(password)}';\n`;
}

/**
 * What single-user mode printed when it failed, or undefined when it did not: it exits 0 after a failed statement
 * (and still shuts down with a checkpoint), so its output is what tells. Statement echoes are left out (they
 * carry the verifier).
 */
export function rekeyFailure(output: string): string | undefined {
  if (!/\b(ERROR|FATAL|PANIC):/.test(output)) return undefined;
  return output
    .split('\n')
    .filter((line) => /\b(ERROR|FATAL|PANIC|HINT|DETAIL):/.test(line))
    .slice(-6)
    .join(' | ');
}
