import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Snapshot-of-branch directories (local driver, docker bind storage) of this cache directory, of one owner session if given. */
export function branchSnapshotDirs(cacheDir: string, session?: string): string[] {
  const dir = path.join(cacheDir, 'snapshots');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((name) => {
    try {
      const meta = JSON.parse(readFileSync(path.join(dir, name, 'meta.json'), 'utf8')) as { ephemeralOwner?: string };
      return meta.ephemeralOwner !== undefined && (!session || meta.ephemeralOwner === session);
    } catch {
      return false;
    }
  });
}
