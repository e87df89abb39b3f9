import { connect } from './pg-client.js';

/** Rows changed in one table, by kind. */
export interface RowCounts {
  inserted: number;
  updated: number;
  deleted: number;
}

/** What `changeRows` does to the generated `bulk` table (ids 1..rows). */
export interface ChangeSpec {
  /** Rows the table had when the snapshot was made. */
  rows: number;
  counts: RowCounts;
  /**
   * Which existing rows may be picked: those with `id % of = part` (two sides of a merge change disjoint rows:
   * parts 0 and 1 of 2). @default every row
   */
  slice?: { part: number; of: number };
  /** First id of the inserted rows (two sides insert disjoint ranges). @default rows + 1 */
  firstInsert?: number;
}

/** A change of `percent` % of `rows` rows, split evenly between updates, deletes and inserts (at least one each). */
export function changeCounts(rows: number, percent: number): RowCounts {
  const total = Math.max(3, Math.round((rows * percent) / 100));
  const third = Math.floor(total / 3);
  return { updated: total - 2 * third, deleted: third, inserted: third };
}

/**
 * Updates, deletes and inserts rows of `bulk` in one transaction: the updated and deleted rows are drawn at random
 * from the whole table (so the changes are spread over its pages, not clustered at the end), the inserted ones get
 * new ids after the existing ones. An update rewrites the payload with other text of the same length.
 */
export async function changeRows(url: string, spec: ChangeSpec): Promise<void> {
  const { updated, deleted, inserted } = spec.counts;
  const slice = spec.slice ?? { part: 0, of: 1 };
  const first = spec.firstInsert ?? spec.rows + 1;
  const client = await connect(url);
  try {
    await client.query('begin');
    await client.query(
      `create temp table picked on commit drop as
         select id, row_number() over () as n
         from (select id from generate_series(1, $1::bigint) id where id % $2 = $3 order by random() limit $4) s`,
      [spec.rows, slice.of, slice.part, updated + deleted],
    );
    const picked = await client.query<{ n: string }>('select count(*) as n from picked');
    if (Number(picked.rows[0]!.n) !== updated + deleted) throw new Error(`only ${picked.rows[0]!.n} rows to pick from, ${updated + deleted} wanted`);
    await client.query(`update bulk set payload = repeat(md5('changed ' || bulk.id), 24) from picked where bulk.id = picked.id and picked.n <= $1`, [updated]);
    await client.query('delete from bulk using picked where bulk.id = picked.id and picked.n > $1', [updated]);
    await client.query(`insert into bulk select g, repeat(md5('inserted ' || g), 24) from generate_series($1::bigint, $2::bigint) g`, [first, first + inserted - 1]);
    await client.query('commit');
  } finally {
    await client.end();
  }
}

/** "12,345 inserted, 12,346 updated, 12,345 deleted". */
export function describeCounts(c: RowCounts): string {
  const n = (v: number) => v.toLocaleString('en-US');
  return `${n(c.inserted)} inserted, ${n(c.updated)} updated, ${n(c.deleted)} deleted`;
}

/** True when two sets of counts are equal. */
export function sameCounts(a: RowCounts, b: RowCounts): boolean {
  return a.inserted === b.inserted && a.updated === b.updated && a.deleted === b.deleted;
}
