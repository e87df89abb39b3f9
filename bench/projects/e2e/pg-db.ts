import type { ClientConfig } from 'pg';

/** What a generated test file needs from its database. */
export interface Db {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/** A `pg` client over TCP as a Db; `onClose` runs after the client has ended. */
export async function pgDb(config: ClientConfig, onClose: () => Promise<unknown> = async () => undefined): Promise<Db> {
  const { default: pg } = await import('pg');
  const client = new pg.Client(config);
  client.on('error', () => undefined);
  await client.connect();
  return {
    query: async <T>(text: string, params?: unknown[]) => (await client.query(text, params)).rows as T[],
    close: async () => {
      await client.end();
      await onClose();
    },
  };
}
