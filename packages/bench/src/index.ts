export { summarize, type LatencySummary } from '@pgbranch/core';
