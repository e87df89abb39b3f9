import { CursorRows } from './cursor-rows.js';
import { connectBoth } from './pg-client.js';
import { userTables } from './user-tables.js';

/**
 * The merge a person without pgbranch would run: the target's tables made equal to the source's by copying every
 * row over, in one transaction on the target — each table emptied (DELETE) and refilled from a full read of the
 * source (a cursor in one consistent snapshot; each batch of rows as `to_jsonb` text, inserted through
 * `jsonb_populate_recordset`). Foreign-key triggers are off for the transaction (`session_replication_role =
 * replica`, as `pg_dump --disable-triggers` does), so the table order does not matter. The target's own changes are
 * lost: this is a copy, not a three-way merge. Returns the rows written.
 */
export async function copyAll(sourceUrl: string, targetUrl: string): Promise<number> {
  const [source, target] = await connectBoth(sourceUrl, targetUrl);
  try {
    await source.query('begin isolation level repeatable read read only');
    await target.query('begin');
    await target.query('set local session_replication_role = replica');
    let written = 0;
    for (const table of await userTables(source)) {
      await target.query(`delete from ${table.sql}`);
      const rows = await CursorRows.open(source, `select to_jsonb(t)::text from ${table.sql} t`);
      await rows.forEachBatch(async (batch) => {
        const json = `[${batch.map((r) => r[0] as string).join(',')}]`;
        await target.query(`insert into ${table.sql} select * from jsonb_populate_recordset(null::${table.sql}, $1::jsonb)`, [json]);
        written += batch.length;
      });
      await rows.close();
    }
    await target.query('commit');
    await source.query('commit');
    return written;
  } catch (err) {
    await target.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    await Promise.all([source.end(), target.end()]);
  }
}
