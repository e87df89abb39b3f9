import type { ReferenceFigure } from './types.js';

const SOURCE = 'serverless Postgres platforms (shared/seeds 000, 001)';

/** Labelled reference figures printed beside ours; never used in a ratio. */
export const REFERENCE = {
  branchCreation: [
    { operation: 'branch creation', value: 'mean 800 ms, P95 1.2 s, P99 1.8 s ("< 1 s"; roadmap goal < 100 ms)', source: SOURCE },
  ],
  creationVsSize: [{ operation: 'branch creation vs size', value: '1 GB 0.3 s · 10 GB 0.5 s · 100 GB 0.8 s · 1 TB 1.2 s', source: SOURCE }],
  reset: [{ operation: 'branch switch', value: 'mean 50 ms, P95 80–100 ms, P99 120 ms', source: SOURCE }],
  destroy: [{ operation: 'branch delete', value: 'mean 600 ms, P95 900 ms, P99 1.2 s', source: SOURCE }],
  coldStart: [
    { operation: 'resume from suspended (P95)', value: 'hot < 100 ms · warm < 500 ms · cold < 2 s', source: SOURCE },
    { operation: 'traditional start', value: '10–30 s; compute start 1.5 s (P95 2 s)', source: SOURCE },
  ],
  storage: [{ operation: 'copy-on-write storage saving', value: '74 % (5 branches) to 86 % (50 branches) vs full copies', source: SOURCE }],
} satisfies Record<string, ReferenceFigure[]>;
