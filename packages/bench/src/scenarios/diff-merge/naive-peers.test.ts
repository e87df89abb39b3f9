import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Branch, type Engine, type Snapshot } from '@pgbranch/core';
import { copyAll } from './copy-all.js';
import { fullCompare } from './full-compare.js';
import { connect } from './pg-client.js';
import { changeCounts, changeRows } from './row-changes.js';

const ROWS = 3000;

/** The naive peers' answers must be right, or their timings mean nothing. */
describe('full compare and copy every row (the naive diff and merge)', () => {
  let dir: string;
  let engine: Engine;
  let snap: Snapshot;
  const branches: Branch[] = [];
  const branch = async () => {
    const b = await snap.branch();
    branches.push(b);
    return b;
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'bench-naive-'));
    await chmod(dir, 0o755); // Postgres may run as another user (when this process is root) and must reach the cache
    await mkdir(path.join(dir, 'recipe'));
    await writeFile(
      path.join(dir, 'recipe/001.sql'),
      `create table bulk (id bigint primary key, payload text not null);
       insert into bulk select g, repeat(md5(g::text), 24) from generate_series(1, ${ROWS}) g;
       create table tags (name text primary key, n int);
       insert into tags values ('a', 1), ('b', 2), ('Z', 3), ('é', 4);
       create table log (line text);
       insert into log values ('x'), ('x'), ('y');`,
    );
    engine = await createEngine({ cacheDir: path.join(dir, 'cache') });
    snap = await engine.snapshot({ name: 'naive-peers', sql: [path.join(dir, 'recipe')] });
  });

  afterAll(async () => {
    for (const b of branches) await b.destroy();
    await engine?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('counts exactly the rows changeRows changed, spread over the table', async () => {
    const [base, head] = [await branch(), await branch()];
    expect(await fullCompare(base.url, head.url)).toEqual([]);
    const counts = changeCounts(ROWS, 10);
    await changeRows(head.url, { rows: ROWS, counts });
    expect(counts).toEqual({ updated: 100, deleted: 100, inserted: 100 });
    expect(await fullCompare(base.url, head.url)).toEqual([{ table: 'public.bulk', ...counts }]);
    // Spread: the deleted ids are not one run at the end of the table.
    const client = await connect(head.url);
    const { rows } = await client.query<{ lo: string; hi: string }>(`select min(id) as lo, max(id) as hi from generate_series(1, ${ROWS}) id where id not in (select id from bulk)`);
    await client.end();
    expect(Number(rows[0]!.hi) - Number(rows[0]!.lo)).toBeGreaterThan(ROWS / 2);
  });

  it('compares text keys in byte order and tables without a key as multisets of rows', async () => {
    const [base, head] = [await branch(), await branch()];
    const client = await connect(head.url);
    await client.query(`update tags set n = 9 where name = 'Z'; insert into tags values ('B', 5); delete from tags where name = 'é';
                        delete from log where ctid = (select ctid from log where line = 'x' limit 1); insert into log values ('z')`);
    await client.end();
    expect(await fullCompare(base.url, head.url)).toEqual([
      { table: 'public.log', inserted: 1, updated: 0, deleted: 1 },
      { table: 'public.tags', inserted: 1, updated: 1, deleted: 1 },
    ]);
  });

  it('copying every row makes the target equal to the source, both sides changed', async () => {
    const [source, target] = [await branch(), await branch()];
    const counts = changeCounts(ROWS, 3);
    await changeRows(source.url, { rows: ROWS, counts, slice: { part: 0, of: 2 } });
    await changeRows(target.url, { rows: ROWS, counts, slice: { part: 1, of: 2 }, firstInsert: ROWS + counts.inserted + 1 });
    expect(await fullCompare(source.url, target.url)).not.toEqual([]);
    expect(await copyAll(source.url, target.url)).toBe(ROWS + 4 + 3);
    expect(await fullCompare(source.url, target.url)).toEqual([]);
  });
});
