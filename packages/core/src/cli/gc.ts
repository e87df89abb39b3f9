import { CacheLayout } from '../engine/layout.js';
import { reapDeadOwners } from '../engine/reaper.js';
import { resolveOptions } from '../options.js';

/** `pgbranch gc`: reaps what dead owners left in the cache directory. */
export async function runGc(options: { cacheDir?: string; json: boolean }): Promise<number> {
  const { cacheDir } = resolveOptions({ cacheDir: options.cacheDir });
  const report = await reapDeadOwners(new CacheLayout(cacheDir));
  if (options.json) {
    process.stdout.write(JSON.stringify({ cacheDir, ...report }) + '\n');
  } else {
    process.stdout.write(
      `pgbranch gc ${cacheDir}: stopped ${report.servers} servers, removed ${report.directories.length} directories ` +
        `of ${report.sessions.length} dead sessions\n`,
    );
    for (const dir of report.directories) process.stdout.write(`  removed ${dir}\n`);
  }
  return 0;
}
