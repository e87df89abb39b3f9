/** The row half of a three-way merge: planning it (pure) and applying a merge plan to the target. */
export { planRows, type RowPlan, type RowStrategy } from './plan-rows.js';
export { applyMergePlan, type ApplyMergeOptions, type MergeProgress } from './apply-plan.js';
export type { RowCounts } from './apply-rows.js';
export { sequenceValues, type SequenceValue } from './sequences.js';
