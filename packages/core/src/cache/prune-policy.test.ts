import { describe, expect, it } from 'vitest';
import { imagesToPrune } from './prune-policy.js';

const day = 86_400;
const now = 100 * day * 1000;
const image = (id: string, ageDays: number) => ({ id, created: now / 1000 - ageDays * day });

describe('snapshot image prune policy', () => {
  it('keeps the newest images up to the count and drops older ones', () => {
    const images = [image('c', 3), image('a', 1), image('b', 2), image('d', 4)];
    expect(imagesToPrune(images, { keep: 2, maxAgeDays: 30 }, now).map((i) => i.id)).toEqual(['c', 'd']);
  });

  it('drops images past the age limit even within the count', () => {
    expect(imagesToPrune([image('new', 1), image('old', 40)], { keep: 10, maxAgeDays: 30 }, now).map((i) => i.id)).toEqual(['old']);
  });

  it('keeps everything within both limits', () => {
    expect(imagesToPrune([image('a', 1), image('b', 2)], { keep: 5, maxAgeDays: 30 }, now)).toEqual([]);
  });
});
