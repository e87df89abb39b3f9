import { describe, expect, it } from 'vitest';
import { lineAndColumn, splitSql } from './sql-split.js';

const texts = (sql: string) => splitSql(sql).map((s) => s.text);

describe('splitSql', () => {
  it('splits on top-level semicolons and drops empty statements', () => {
    expect(texts('select 1; select 2;;\n  ; -- trailing comment\n')).toEqual(['select 1', 'select 2']);
  });

  it('keeps semicolons inside quotes, identifiers and comments', () => {
    const sql = `insert into t values ('a;b', 'it''s; fine');\nselect "odd;name" from t; /* a; b /* nested; */ c; */ select E'x\\';y';`;
    expect(texts(sql)).toEqual([
      "insert into t values ('a;b', 'it''s; fine')",
      'select "odd;name" from t',
      "/* a; b /* nested; */ c; */ select E'x\\';y'",
    ]);
  });

  it('keeps dollar-quoted bodies whole, with or without a tag', () => {
    const fn = `create function f() returns int language plpgsql as $body$ begin perform 1; return 2; end $body$`;
    const anon = `do $$ begin raise notice 'x;'; end $$`;
    expect(texts(`${fn};\n${anon};\nselect $1`)).toEqual([fn, anon, 'select $1']);
  });

  it('keeps SQL-standard function bodies (BEGIN ATOMIC … END) whole', () => {
    const fn = `create function g(a int) returns int language sql begin atomic select case when a > 0 then 1 else 0 end; select 2; end`;
    expect(texts(`${fn};\nselect 3;`)).toEqual([fn, 'select 3']);
  });

  it('reports where each statement starts', () => {
    const sql = '-- header\nselect 1;\n\n  select 2;';
    const [first, second] = splitSql(sql);
    expect(lineAndColumn(sql, first!.offset)).toEqual({ line: 1, column: 1 });
    expect(first!.text.endsWith('select 1')).toBe(true);
    expect(lineAndColumn(sql, second!.offset)).toEqual({ line: 4, column: 3 });
  });
});
