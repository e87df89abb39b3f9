import type { Branch } from '../branch/branch.js';
import { summarizeDiff } from '../diff/format.js';
import { describeCause } from '../errors.js';
import { logger } from '../log.js';
import { FAILED_DIFF_TIMEOUT_MS } from './protocol.js';

const log = logger('server');

/**
 * What a failed file changed in its branch, as one line (`accounts: +2 rows; schema: +index …`), read while the
 * branch still runs (before it is kept, reset or destroyed). Never throws: a diff that fails or takes longer than
 * `timeoutMs` gives `diff unavailable: <reason>`, since the report must not fail the run.
 */
export async function failedDiffSummary(branch: Branch, timeoutMs = FAILED_DIFF_TIMEOUT_MS): Promise<string> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const diff = branch.diff({ rows: 0 });
    diff.catch(() => undefined); // still running when the timeout won: its end is of no interest
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    const summary = summarizeDiff(await Promise.race([diff, timeout]));
    log('diff of failed branch %s in %d ms: %s', branch.name, Math.round(performance.now() - t0), summary);
    return summary;
  } catch (err) {
    log('diff of failed branch %s: %s', branch.name, describeCause(err));
    return `diff unavailable: ${describeCause(err)}`;
  } finally {
    clearTimeout(timer);
  }
}
