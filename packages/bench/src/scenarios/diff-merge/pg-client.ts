import pg from 'pg';

/** A connected client; a server that dies fails the query in progress, not the process. */
export async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Two connected clients, or none (the first is closed when the second fails). */
export async function connectBoth(a: string, b: string): Promise<[pg.Client, pg.Client]> {
  const first = await connect(a);
  try {
    return [first, await connect(b)];
  } catch (err) {
    await first.end();
    throw err;
  }
}
