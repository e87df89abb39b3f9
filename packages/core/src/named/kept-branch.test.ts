import { describe, expect, it } from 'vitest';
import { DEFAULT_KEPT_TTL_MS, planKeptBranch } from './kept-branch.js';
import { assertBranchName } from '../cache/named-record.js';

describe('kept branch names, labels and TTL', () => {
  it('names the branch after the test file, validly whatever the file is called', () => {
    const cases: Array<[string, RegExp]> = [
      ['/repo/test/failing.test.ts', /^failed-failing-abcdef$/],
      ['/repo/test/orders.spec.mjs > refunds twice', /^failed-orders-abcdef$/],
      ['test/failing.test.ts failed', /^failed-failing-abcdef$/],
      ['/repo/test/Ünïcode spaces & stuff.test.tsx', /^failed-unicode-spaces-stuff-abcdef$/],
      ['/repo/test/.hidden.test.js', /^failed-hidden-abcdef$/],
      ['/repo/test/___.test.js', /^failed-file-abcdef$/],
      [`/repo/test/${'x'.repeat(200)}.test.ts`, /^failed-x+-abcdef$/],
    ];
    for (const [reason, name] of cases) {
      const plan = planKeptBranch(reason, 'abcdef12', {}, '/repo');
      expect(plan.name, reason).toMatch(name);
      expect(() => assertBranchName(plan.name)).not.toThrow();
    }
  });

  it('labels the file relative to the working directory and the runner', () => {
    const plan = planKeptBranch('/repo/test/a.test.ts > does a thing', '12345678', {}, '/repo');
    expect(plan.labels).toEqual({ kept: expect.stringMatching(/^(vitest|jest|pool-server)$/), file: 'test/a.test.ts' });
  });

  it('expires in 24 hours unless PGBRANCH_KEPT_TTL says otherwise', () => {
    expect(planKeptBranch('a.test.ts', '12345678', {}).ttlMs).toBe(DEFAULT_KEPT_TTL_MS);
    expect(planKeptBranch('a.test.ts', '12345678', { PGBRANCH_KEPT_TTL: '3d' }).ttlMs).toBe(3 * 86_400_000);
    expect(planKeptBranch('a.test.ts', '12345678', { PGBRANCH_KEPT_TTL: 'never' }).ttlMs).toBeUndefined();
    expect(() => planKeptBranch('a.test.ts', '12345678', { PGBRANCH_KEPT_TTL: '5' })).toThrow(/PGBRANCH_KEPT_TTL "5" is not a duration/);
  });
});
