import type { LeaseInfo } from '../server/protocol.js';

/**
 * Which environment variables a test file gets for its branch:
 * - `'all'`: `DATABASE_URL` and libpq's `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`;
 * - `'url'`: `DATABASE_URL` only;
 * - `{ url: 'TEST_DATABASE_URL', pg: false }`: the URL under another name, with or without the PG* set.
 */
export type LeaseEnvOption = 'url' | 'all' | { url?: string; pg?: boolean };

/** The PG* variables a branch sets with `env: 'all'`. */
export const PG_ENV_NAMES = ['PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE'] as const;

function resolve(option: LeaseEnvOption = 'all'): { url: string; pg: boolean } {
  if (option === 'all') return { url: 'DATABASE_URL', pg: true };
  if (option === 'url') return { url: 'DATABASE_URL', pg: false };
  return { url: option.url ?? 'DATABASE_URL', pg: option.pg ?? true };
}

/** Environment variables a leased branch sets for a test file (see {@link LeaseEnvOption}). */
export function envFor(lease: LeaseInfo, option?: LeaseEnvOption): Record<string, string> {
  const { url, pg } = resolve(option);
  const env: Record<string, string> = { [url]: lease.url };
  if (pg) Object.assign(env, { PGHOST: lease.host, PGPORT: String(lease.port), PGUSER: lease.user, PGPASSWORD: lease.password, PGDATABASE: lease.database });
  return env;
}

/**
 * Points a file's `process.env` at one lease after another. Each switch first removes what the previous
 * lease set (where the file did not change it since), so nothing of an earlier branch is left behind;
 * with `'url'`, the PG* variables are never set.
 */
export class LeaseEnv {
  private set: Record<string, string> = {};

  constructor(
    private readonly target: NodeJS.ProcessEnv,
    private readonly option?: LeaseEnvOption,
  ) {}

  use(lease: LeaseInfo): void {
    this.clear();
    const env = envFor(lease, this.option);
    Object.assign(this.target, env);
    this.set = env;
  }

  /** Removes the variables the current lease set, where they still hold its values. */
  clear(): void {
    for (const [name, value] of Object.entries(this.set)) if (this.target[name] === value) delete this.target[name];
    this.set = {};
  }
}
