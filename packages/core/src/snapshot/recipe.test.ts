import { mkdtemp, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { initSource, noticeInitHashing, recipeHash, resolveSqlFiles } from './recipe.js';

async function recipeDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pgbranch-recipe-'));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  return dir;
}

const base = { parentHash: 'p', settings: {}, hashInputs: [] as string[] };

describe('recipes', () => {
  it('runs directory files in lexical order, recursing, .sql only', async () => {
    const dir = await recipeDir({ '010_b.sql': '', '002_a.sql': '', 'notes.md': '', 'sub/001_c.sql': '' });
    const files = await resolveSqlFiles({ name: 'r', sql: ['.'], baseDir: dir });
    expect(files.map((f) => f.display)).toEqual(['002_a.sql', '010_b.sql', 'sub/001_c.sql']);
  });

  it('names a missing path in the error', async () => {
    await expect(resolveSqlFiles({ name: 'r', sql: ['nope.sql'], baseDir: os.tmpdir() })).rejects.toThrow(/nope\.sql does not exist/);
  });

  it('hashes content, order, parent, settings, inputs and init — and nothing else', async () => {
    const dir = await recipeDir({ 'a.sql': 'create table a();', 'b.sql': 'create table b();', 'in/x.txt': '1' });
    const files = await resolveSqlFiles({ name: 'r', sql: ['a.sql', 'b.sql'], baseDir: dir });
    const h = (over: Partial<Parameters<typeof recipeHash>[0]>) => recipeHash({ ...base, files, baseDir: dir, ...over });
    const reference = await h({});
    expect(await h({})).toBe(reference);
    expect(await h({ files: [...files].reverse() })).not.toBe(reference);
    expect(await h({ parentHash: 'q' })).not.toBe(reference);
    expect(await h({ settings: { TimeZone: 'UTC' } })).not.toBe(reference);
    expect(await h({ initSource: initSource(async () => undefined) })).not.toBe(reference);
    const withInput = await h({ hashInputs: ['in'] });
    expect(withInput).not.toBe(reference);
    await writeFile(path.join(dir, 'in/x.txt'), '2');
    expect(await h({ hashInputs: ['in'] })).not.toBe(withInput);
    await writeFile(path.join(dir, 'a.sql'), 'create table a(x int);');
    expect(await h({})).not.toBe(reference);
  });

  it('does not depend on where the project lives', async () => {
    const one = await recipeDir({ 'a.sql': 'select 1;' });
    const two = await recipeDir({ 'a.sql': 'select 1;' });
    const hash = async (dir: string) => recipeHash({ ...base, baseDir: dir, files: await resolveSqlFiles({ name: 'r', sql: ['a.sql'], baseDir: dir }) });
    expect(await hash(one)).toBe(await hash(two));
  });

  it('hashes init by its own source: another body, another hash; the same source, the same hash', async () => {
    const dir = await recipeDir({ 'a.sql': 'select 1;' });
    const files = await resolveSqlFiles({ name: 'r', sql: ['a.sql'], baseDir: dir });
    const h = (init?: (url: string) => Promise<void>) => recipeHash({ ...base, files, baseDir: dir, initSource: init && initSource(init) });
    const makeInit = () => async (url: string) => void (await fetch(url));
    const one = async (url: string) => void (await fetch(url));
    const other = async (url: string) => void (await fetch(`${url}?v=2`));
    expect(await h(one)).not.toBe(await h(other));
    expect(await h(makeInit())).toBe(await h(makeInit())); // two function objects, one source
    expect(await h(one)).not.toBe(await h(undefined));
  });

  it('says once per process that init is hashed by its source, unless hashInputs are given', () => {
    const lines: string[] = [];
    const init = async () => undefined;
    noticeInitHashing({ name: 'r', init, hashInputs: [] }, (l) => lines.push(l));
    noticeInitHashing({ name: 'r' }, (l) => lines.push(l));
    expect(lines).toEqual([]);
    noticeInitHashing({ name: 'app', init }, (l) => lines.push(l));
    noticeInitHashing({ name: 'app', init }, (l) => lines.push(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^pgbranch: snapshot "app": only the source of its init function is hashed.*hashInputs/);
    expect(lines[0]!.trimEnd().split('\n')).toHaveLength(1);
  });
});
