import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshCacheDir, repoRoot } from './support/processes.js';
import { expectNothingLeft, runRunnerOutput } from './support/runner.js';

const FILES = 4;
const base = path.join(os.tmpdir(), 'pgbranch-test', 'driver-template-runner');
const cacheDir = path.join(base, 'cache');
const seen = path.join(base, 'seen');
/** Lives beside the example project so that its node_modules (vitest, @pgbranch/vitest, pg) resolve. */
const project = path.join(repoRoot, 'fixtures/projects', '.template-driver-app');

const CONFIG = `import { defineConfig } from 'vitest/config';
import { pgbranch } from '@pgbranch/vitest';
export default defineConfig({
  plugins: [pgbranch({ name: 'relay', sql: [${JSON.stringify(path.join(repoRoot, 'fixtures/recipes/relay-store'))}] })],
  test: { include: ['test/**/*.test.ts'], maxWorkers: 2, fileParallelism: true, testTimeout: 30_000 },
});
`;

/** Each file writes a table of its own, checks it sees no other file's, and records its database. */
const testFile = (i: number) => `import { writeFileSync } from 'node:fs';
import pg from 'pg';
import { expect, it } from 'vitest';
it('has a database of its own', async () => {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    await client.query('create table file_${i} (x int)');
    const { rows } = await client.query("select current_database() as db, count(*)::int as tables from pg_class where relname like 'file\\\\_%'");
    expect(rows[0].tables).toBe(1);
    writeFileSync(${JSON.stringify(seen)} + '/${i}.json', JSON.stringify({ db: rows[0].db, url: process.env.DATABASE_URL.replace(/:[^:@]*@/, '@') }));
  } finally {
    await client.end();
  }
});
`;

describe('vitest runner with PGBRANCH_DRIVER=template', () => {
  beforeAll(async () => {
    await freshCacheDir(cacheDir);
    await rm(project, { recursive: true, force: true });
    await rm(seen, { recursive: true, force: true });
    await mkdir(path.join(project, 'test'), { recursive: true });
    await mkdir(seen, { recursive: true });
    await symlink(path.join(repoRoot, 'fixtures/projects/vitest-app/node_modules'), path.join(project, 'node_modules'));
    await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'template-driver-app', private: true, type: 'module' }));
    await writeFile(path.join(project, 'vitest.config.ts'), CONFIG);
    for (let i = 1; i <= FILES; i++) await writeFile(path.join(project, 'test', `file-${i}.test.ts`), testFile(i));
  });
  afterAll(async () => {
    await rm(project, { recursive: true, force: true });
    await freshCacheDir(cacheDir);
    await rm(base, { recursive: true, force: true });
  });

  it('gives each file its own database of one template server, and leaves nothing behind', async () => {
    const { code, output } = await runRunnerOutput('.template-driver-app', 'vitest', [], { PGBRANCH_CACHE_DIR: cacheDir, PGBRANCH_DRIVER: 'template' });
    expect(code, output).toBe(0);
    expect(output).toMatch(new RegExp(`pgbranch: ${FILES} files, ${FILES} branches leased, .* cloner template-database`));
    // The drain counts only the file's own database: the shared server's other clients are not the file's.
    expect(output).not.toMatch(/still open/);
    const records = await Promise.all((await readdir(seen)).map(async (f) => JSON.parse(await readFile(path.join(seen, f), 'utf8')) as { db: string; url: string }));
    expect(records).toHaveLength(FILES);
    expect(new Set(records.map((r) => r.db)).size).toBe(FILES);
    for (const r of records) expect(r.db).toMatch(/^branch_[0-9a-f]{8}$/);
    for (const r of records) expect(r.url).toMatch(new RegExp(`/${r.db}$`));
    expectNothingLeft(cacheDir);
  });

  it('with keepOnFailure, says a failed file\'s branch cannot be kept, releases it and keeps nothing', async () => {
    await writeFile(path.join(project, 'vitest.config.ts'), CONFIG.replace("sql: [", 'keepOnFailure: true, sql: ['));
    await writeFile(path.join(project, 'test', 'failing.test.ts'), "import { it, expect } from 'vitest';\nit('fails', () => expect(1).toBe(2));\n");
    try {
      const { code, output } = await runRunnerOutput('.template-driver-app', 'vitest', [], { PGBRANCH_CACHE_DIR: cacheDir, PGBRANCH_DRIVER: 'template' });
      expect(code, output).not.toBe(0);
      expect(output).toMatch(/The branch of \S*failing\.test\.ts was not kept: the template driver's branches are databases of the run's own server/);
      expect(existsSync(path.join(cacheDir, 'named')) ? await readdir(path.join(cacheDir, 'named')) : []).toEqual([]);
      expectNothingLeft(cacheDir);
    } finally {
      await rm(path.join(project, 'test', 'failing.test.ts'), { force: true });
      await writeFile(path.join(project, 'vitest.config.ts'), CONFIG);
    }
  });
});
