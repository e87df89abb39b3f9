import type pg from 'pg';
import type { Relation } from './relations.js';

export const PAGE_SIZE = 8192;
/** Pages per segment file (1 GiB segments, Postgres' default build). */
const SEGMENT_PAGES = 131072;
/** Pages read per call of pg_read_binary_file: 8 MiB. */
const CHUNK_PAGES = 1024;
const CHUNKS_PER_SEGMENT = SEGMENT_PAGES / CHUNK_PAGES;

// Reads the relation's files through the server (the same on every driver, containers included) in 8 MiB chunks
// and keeps the first 8 bytes of each page: its LSN, the WAL position of the page's last change. Only the LSNs
// leave the server: 8 bytes per 8 KiB page.
const LSNS_SQL = `
SELECT (SELECT string_agg(substring(d.data FROM i * ${PAGE_SIZE} + 1 FOR 8), ''::bytea ORDER BY i)
        FROM generate_series(0, length(d.data) / ${PAGE_SIZE} - 1) AS i) AS lsns
FROM generate_series(0, $2::int - 1) AS k,
     LATERAL (SELECT pg_read_binary_file($1 || CASE WHEN k / ${CHUNKS_PER_SEGMENT} > 0 THEN '.' || (k / ${CHUNKS_PER_SEGMENT}) ELSE '' END,
                                         (k % ${CHUNKS_PER_SEGMENT})::bigint * ${PAGE_SIZE * CHUNK_PAGES}, ${PAGE_SIZE * CHUNK_PAGES}, true) AS data) AS d
ORDER BY k`;

/**
 * The LSN of every page of a table's main fork, 8 bytes per page in page order, as stored in its files. Run a
 * CHECKPOINT on the server first: pages changed in shared buffers reach the files only then.
 */
export async function pageLsns(client: pg.ClientBase, relation: Relation): Promise<Buffer> {
  const pages = Math.floor(relation.bytes / PAGE_SIZE);
  if (pages === 0) return Buffer.alloc(0);
  const { rows } = await client.query<{ lsns: Buffer | null }>(LSNS_SQL, [relation.path, Math.ceil(pages / CHUNK_PAGES)]);
  const all = Buffer.concat(rows.map((r) => r.lsns ?? Buffer.alloc(0)));
  return all.subarray(0, pages * 8);
}

/** Half-open page ranges [start, end). */
export type PageRun = [number, number];

/**
 * Pages whose LSN differs between two copies of one table (a page changed on either side since their common
 * ancestor carries a later LSN there), plus every page one side has beyond the other's end; as runs of pages.
 * Runs closer than `gap` pages are joined: reading a few unchanged pages costs less than another scan.
 */
export function changedRuns(base: Buffer, head: Buffer, gap = 2): PageRun[] {
  const runs: PageRun[] = [];
  const total = Math.max(base.length, head.length) / 8;
  const shared = Math.min(base.length, head.length) / 8;
  const mark = (page: number): void => {
    const last = runs.at(-1);
    if (last && page - last[1] <= gap) last[1] = page + 1;
    else runs.push([page, page + 1]);
  };
  for (let page = 0; page < shared; page++) {
    const at = page * 8;
    if (base.readBigUInt64LE(at) !== head.readBigUInt64LE(at)) mark(page);
  }
  for (let page = shared; page < total; page++) mark(page);
  return runs;
}

/** How many pages the runs cover. */
export function pagesIn(runs: PageRun[]): number {
  return runs.reduce((n, [a, b]) => n + b - a, 0);
}
