/** How many snapshot images to keep, and for how long. */
export interface PrunePolicy {
  /** Keep at most this many snapshot images per cache directory (newest first). @default 20 */
  keep: number;
  /** Remove snapshot images older than this many days. @default 30 */
  maxAgeDays: number;
}

export const DEFAULT_PRUNE_POLICY: PrunePolicy = { keep: 20, maxAgeDays: 30 };

export interface SnapshotImage {
  id: string;
  /** Seconds since the epoch, as Docker reports it. */
  created: number;
}

/** The images a policy removes: everything beyond the newest `keep`, and everything older than `maxAgeDays`. */
export function imagesToPrune(images: SnapshotImage[], policy: PrunePolicy, nowMs = Date.now()): SnapshotImage[] {
  const cutoff = nowMs / 1000 - policy.maxAgeDays * 86_400;
  return [...images].sort((a, b) => b.created - a.created).filter((image, rank) => rank >= policy.keep || image.created < cutoff);
}
