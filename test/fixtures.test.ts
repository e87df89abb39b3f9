import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '@pgbranch/core';
import { query } from './support/pg.js';
import { repoRoot } from './support/processes.js';
import { requireAll } from './support/targets.js';

const SYSTEM_PG15 = '/usr/lib/postgresql/15/bin';
const recipes = {
  'sync-store': { table: 'documents', rows: 8000, check: "select update_document_cas(md5('doc-1')::uuid, -1, '{}'::jsonb, 'x') is null as ok" },
  'relay-store': { table: 'relay.api_keys', rows: 2000, check: "select (relay.verify_api_key('rk_' || md5('relay-key-1'))) is not null as ok" },
  'photo-catalog': { table: 'photos', rows: 10000, check: 'select count(*) = 5 as ok from nearest_photos(1, (select id from model_versions order by id limit 1), 5)' },
} as const;

/** The fixture recipes seed and behave the same on the embedded PostgreSQL 18 and on system binaries. */
const binaries: Array<[string, string | undefined]> = [['embedded PostgreSQL 18', undefined]];
if (existsSync(SYSTEM_PG15) || requireAll()) binaries.push(['system PostgreSQL 15 (postgres.binDir)', SYSTEM_PG15]);
else describe.skip(`system PostgreSQL 15 (skipped: ${SYSTEM_PG15} not installed)`, () => it('needs postgresql-15', () => undefined));

for (const [label, binDir] of binaries) {
  describe(`fixture recipes on ${label}`, () => {
    const cacheDir = path.join(os.tmpdir(), 'pgbranch-test', 'fixtures', binDir ? 'pg15' : 'embedded');
    let engine: Engine | undefined;
    afterAll(async () => {
      await engine?.close();
      await rm(cacheDir, { recursive: true, force: true });
    });

    for (const [name, expected] of Object.entries(recipes)) {
      it(`${name} seeds, branches and answers`, async () => {
        engine ??= await createEngine({ cacheDir, cloner: 'copy', postgres: { binDir } });
        expect(engine.info().binariesFrom).toBe(binDir ? 'option' : 'embedded');
        const snap = await engine.snapshot({ name, sql: [path.join(repoRoot, 'fixtures/recipes', name)] });
        await using branch = await snap.branch();
        expect(await query(branch.url, `select count(*)::int as n from ${expected.table}`)).toEqual([{ n: expected.rows }]);
        expect(await query(branch.url, expected.check)).toEqual([{ ok: true }]);
      });
    }
  });
}
