// Copied to generated/<name>.test.ts by the end-to-end benchmark, with FILE's value replaced by <name>.
import { afterAll, expect, it } from 'vitest';
import { openDb } from '../db.js';

const FILE = 'template';
const db = await openDb();
afterAll(() => db?.close());

it.runIf(db)('creates rows and queries them', async () => {
  for (let i = 0; i < 10; i++) {
    await db!.query(
      `insert into documents (id, workspace_id, name, doc_type, created_by, updated_by) values (md5($1)::uuid, 1, $1, 'text', 'e2e', 'e2e')`,
      [`${FILE}-${i}`],
    );
  }
  expect(await db!.query('select count(*)::int as n from documents')).toEqual([{ n: 10 }]);
});
it.skipIf(db)('runs without a database (baseline)', () => expect(FILE).toBe('template'));
