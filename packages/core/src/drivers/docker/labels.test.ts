import { describe, expect, it } from 'vitest';
import { LABEL, madeBy, ownerLabels } from './labels.js';

describe('madeBy', () => {
  const ours = { root: '/root/.cache/pgbranch', id: 'aaaa' };

  it("takes what carries this cache directory's identity, not another's at the same path", () => {
    expect(madeBy(ownerLabels(ours, 's1', 'branch'), ours)).toBe(true);
    expect(madeBy(ownerLabels({ ...ours, id: 'bbbb' }, 's1', 'branch'), ours)).toBe(false);
    expect(madeBy(ownerLabels({ root: '/elsewhere', id: 'aaaa' }, 's1', 'branch'), ours)).toBe(false);
  });

  it('still takes what an older version labelled with the path alone', () => {
    const legacy = { [LABEL.cacheDir]: ours.root, [LABEL.session]: 's1' };
    expect(madeBy(legacy, ours)).toBe(true);
    expect(madeBy(legacy, { ...ours, id: '' })).toBe(true);
    expect(madeBy(undefined, ours)).toBe(false);
  });

  it('leaves the identity label off while a cache directory has none', () => {
    expect(ownerLabels({ root: ours.root, id: '' }, 's1', 'branch')).not.toHaveProperty(LABEL.cacheId);
  });
});
