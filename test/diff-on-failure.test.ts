import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshCacheDir, repoRoot } from './support/processes.js';
import { expectKeptAsNamed, expectNothingLeft, runRunnerOutput } from './support/runner.js';

// diffOnFailure: a failed file's report says what it changed in its branch (rows and schema), read by the pool
// server before the branch is kept or destroyed. Real vitest and jest runs on small projects made here.
const base = path.join(os.tmpdir(), 'pgbranch-test', 'diff-on-failure');
const cacheDir = path.join(base, 'cache');
const RECIPE = JSON.stringify(path.join(repoRoot, 'fixtures/recipes/relay-store'));

/** The failing file adds two accounts and an index, then fails; the passing file adds one account. */
const body = (title: string, failing: boolean) => `
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    ${
      failing
        ? `await client.query("insert into relay.accounts (provider, name, credential) values ('claude', 'diff-1', '\\\\x00'::bytea), ('gemini', 'diff-2', '\\\\x00'::bytea)");
    await client.query('create index accounts_created_idx on relay.accounts (created_at)');`
        : `await client.query("insert into relay.accounts (provider, name, credential) values ('openai', '${title}', '\\\\x00'::bytea)");`
    }
  } finally {
    await client.end();
  }
  expect('${failing ? 'the failing file' : 'ok'}').toBe('${failing ? 'a passing file' : 'ok'}');`;

interface Project {
  dir: string;
  name: string;
  runner: 'vitest' | 'jest';
  files: Record<string, string>;
}

const vitestProject: Project = {
  name: '.diff-on-failure-vitest',
  dir: path.join(repoRoot, 'fixtures/projects/.diff-on-failure-vitest'),
  runner: 'vitest',
  files: {
    'package.json': JSON.stringify({ name: 'diff-on-failure-vitest', private: true, type: 'module' }),
    'vitest.config.ts': `import { defineConfig } from 'vitest/config';
import { pgbranch } from '@pgbranch/vitest';
export default defineConfig({
  plugins: [pgbranch({ name: 'relay', sql: [${RECIPE}], diffOnFailure: !process.env.EXAMPLE_NO_DIFF, keepOnFailure: Boolean(process.env.EXAMPLE_KEEP) })],
  test: { include: ['test/**/*.test.ts'], maxWorkers: 2, fileParallelism: true, testTimeout: 30_000 },
});
`,
    'test/failing.test.ts': `import pg from 'pg';\nimport { expect, it } from 'vitest';\nit('fails after adding two accounts and an index', async () => {${body('failing', true)}\n});\n`,
    'test/passing.test.ts': `import pg from 'pg';\nimport { expect, it } from 'vitest';\nit('passes after adding an account', async () => {${body('passing', false)}\n});\n`,
  },
};

const jestProject: Project = {
  name: '.diff-on-failure-jest',
  dir: path.join(repoRoot, 'fixtures/projects/.diff-on-failure-jest'),
  runner: 'jest',
  files: {
    'package.json': JSON.stringify({ name: 'diff-on-failure-jest', private: true }),
    'jest.config.js': `module.exports = {
  testEnvironment: '@pgbranch/jest',
  globalSetup: '@pgbranch/jest/global-setup',
  globalTeardown: '@pgbranch/jest/global-teardown',
  testEnvironmentOptions: { pgbranch: { name: 'relay', sql: [${RECIPE}], diffOnFailure: true, keepOnFailure: Boolean(process.env.EXAMPLE_KEEP) } },
  maxWorkers: 2,
};
`,
    'test/failing.test.js': `const pg = require('pg');\ntest('fails after adding two accounts and an index', async () => {${body('failing', true)}\n});\n`,
    'test/passing.test.js': `const pg = require('pg');\ntest('passes after adding an account', async () => {${body('passing', false)}\n});\n`,
  },
};

async function create(project: Project, example: string): Promise<void> {
  await rm(project.dir, { recursive: true, force: true });
  await mkdir(path.join(project.dir, 'test'), { recursive: true });
  // Beside the example project, so that its node_modules (the runner, the pgbranch package, pg) resolve.
  await symlink(path.join(repoRoot, 'fixtures/projects', example, 'node_modules'), path.join(project.dir, 'node_modules'));
  for (const [file, text] of Object.entries(project.files)) await writeFile(path.join(project.dir, file), text);
}

const run = (project: Project, env: NodeJS.ProcessEnv = {}) => runRunnerOutput(project.name, project.runner, [], { PGBRANCH_CACHE_DIR: cacheDir, ...env });

/** The report line of the failing file: what it changed in its branch. */
const CHANGES = /pgbranch: changes in the branch of \S*failing\.test\.[jt]s: (.*)/;

function expectFailingFileChanges(output: string): void {
  const changes = CHANGES.exec(output)?.[1];
  expect(changes, output).toBeDefined();
  expect(changes).toMatch(/^relay\.accounts: \+2 rows(;|$)/);
  expect(changes).toMatch(/schema: .*\+index relay\.accounts_created_idx/);
  // Only failed files get the report.
  expect(output).not.toMatch(/changes in the branch of \S*passing/);
}

describe('diffOnFailure', () => {
  beforeAll(async () => {
    await freshCacheDir(cacheDir);
    await create(vitestProject, 'vitest-app');
    await create(jestProject, 'jest-app');
  });
  afterAll(async () => {
    await rm(vitestProject.dir, { recursive: true, force: true });
    await rm(jestProject.dir, { recursive: true, force: true });
    await freshCacheDir(cacheDir);
    await rm(base, { recursive: true, force: true });
  });

  it('vitest: reports what a failed file changed (rows and an index), then destroys its branch', async () => {
    const { code, output } = await run(vitestProject);
    expect(code, output).not.toBe(0);
    expectFailingFileChanges(output);
    expect(output).not.toContain('kept branch');
    expectNothingLeft(cacheDir);
  });

  it('vitest with keepOnFailure: the kept branch\'s line comes with what the file changed in it', async () => {
    const { code, output } = await run(vitestProject, { EXAMPLE_KEEP: '1' });
    expect(code, output).not.toBe(0);
    expect(output).toMatch(/pgbranch: kept the branch of \S*failing\.test\.ts as the named branch failed-failing-/);
    expectKeptAsNamed(output, cacheDir); // removes it, too
    expectNothingLeft(cacheDir);
    expectFailingFileChanges(output);
  });

  it('vitest without diffOnFailure: no diff is read', async () => {
    const { code, output } = await run(vitestProject, { EXAMPLE_NO_DIFF: '1' });
    expect(code, output).not.toBe(0);
    expect(output).toContain('fails after adding two accounts and an index');
    expect(output).not.toContain('changes in the branch of');
    expectNothingLeft(cacheDir);
  });

  it('vitest with the template driver and keepOnFailure: the branch is not kept, and the report still says what changed', async () => {
    const templateCache = path.join(base, 'template-cache');
    await freshCacheDir(templateCache);
    try {
      const { code, output } = await run(vitestProject, { EXAMPLE_KEEP: '1', PGBRANCH_DRIVER: 'template', PGBRANCH_CACHE_DIR: templateCache });
      expect(code, output).not.toBe(0);
      expect(output).toMatch(/The branch of \S*failing\.test\.ts was not kept: the template driver's branches/);
      expectFailingFileChanges(output);
      expectNothingLeft(templateCache);
    } finally {
      await freshCacheDir(templateCache);
    }
  });

  it('jest: reports what a failed file changed, then destroys its branch', async () => {
    const { code, output } = await run(jestProject);
    expect(code, output).not.toBe(0);
    expectFailingFileChanges(output);
    expectNothingLeft(cacheDir);
  });
});
