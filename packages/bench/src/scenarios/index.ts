import type { Scenario } from '../types.js';
import { branchCreation } from './branch-creation.js';
import { coldStart } from './cold-start.js';
import { diff } from './diff-merge/diff.js';
import { merge } from './diff-merge/merge.js';
import { endToEnd } from './end-to-end/index.js';
import { memory } from './memory.js';
import { peers } from './peers/index.js';
import { poolHandout } from './pool-handout.js';
import { resetDestroy } from './reset-destroy.js';
import { scale } from './scale.js';
import { snapshotSize } from './snapshot-size.js';
import { storage } from './storage.js';
import { templateDriver } from './template-driver.js';

/** Every scenario, in report order. */
export const SCENARIOS: Scenario[] = [branchCreation, templateDriver, snapshotSize, poolHandout, resetDestroy, coldStart, storage, memory, peers, endToEnd, scale, diff, merge];
