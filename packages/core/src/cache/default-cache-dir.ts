import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * `node_modules/.cache/pgbranch` of the nearest directory with a package.json (from the working directory
 * up), else of the working directory: the cache lives with the project, as other tools' caches do.
 */
export function defaultCacheDir(from = process.cwd()): string {
  let dir = path.resolve(from);
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'node_modules', '.cache', 'pgbranch');
    const parent = path.dirname(dir);
    if (parent === dir) return path.join(path.resolve(from), 'node_modules', '.cache', 'pgbranch');
    dir = parent;
  }
}
