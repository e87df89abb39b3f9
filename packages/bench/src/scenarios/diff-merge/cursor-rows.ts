import type pg from 'pg';

/** Rows per FETCH: large enough that round trips do not dominate, small enough to keep memory flat. */
const BATCH = 5000;

let cursors = 0;

/**
 * Reads a query's rows through a server-side cursor, one batch at a time, the next batch fetched while the
 * current one is used. Rows are arrays of column texts. The client must be inside a transaction.
 */
export class CursorRows {
  private rows: unknown[][] = [];
  private index = 0;
  private next: Promise<unknown[][]> | undefined;
  private done = false;
  private readonly name = `rows_${++cursors}`;

  private constructor(private readonly client: pg.Client) {}

  /** Declares the cursor and fetches its first batch. */
  static async open(client: pg.Client, sql: string): Promise<CursorRows> {
    const reader = new CursorRows(client);
    await client.query(`declare ${reader.name} no scroll cursor for ${sql}`);
    reader.next = reader.fetch();
    await reader.refill();
    return reader;
  }

  /** The current row, or undefined at the end. */
  get current(): unknown[] | undefined {
    return this.rows[this.index];
  }

  /** Moves to the next row; returns a promise (to await) only when the batch is used up, so most steps cost no await. */
  advance(): Promise<void> | undefined {
    this.index++;
    return this.index >= this.rows.length && !this.done ? this.refill() : undefined;
  }

  /** Reads every remaining batch, calling `each` on it (the next batch is fetched meanwhile). */
  async forEachBatch(each: (rows: unknown[][]) => Promise<void>): Promise<void> {
    while (this.current) {
      await each(this.index ? this.rows.slice(this.index) : this.rows);
      if (this.done) break;
      await this.refill();
    }
  }

  async close(): Promise<void> {
    await this.client.query(`close ${this.name}`);
  }

  private fetch(): Promise<unknown[][]> {
    const rows = this.client.query<unknown[]>({ text: `fetch ${BATCH} from ${this.name}`, rowMode: 'array' }).then((r) => r.rows);
    rows.catch(() => undefined); // a fetch nobody awaits (the reader stopped early) must not fail the process
    return rows;
  }

  private async refill(): Promise<void> {
    this.rows = await this.next!;
    this.index = 0;
    if (this.rows.length < BATCH) {
      this.done = true;
      this.next = undefined;
    } else {
      this.next = this.fetch();
    }
  }
}
