import path from 'node:path';
import type { Headers } from 'tar-stream';

/** Where a data directory's entries sit in a snapshot archive and in the data streams drivers exchange. */
export const DATA_PREFIX = 'data/';

/**
 * Why a tar entry cannot be part of a snapshot's data directory, or undefined when it can: it must lie under
 * `data/` (no absolute path, no `..`), be a file, a directory or a symlink, and a symlink must point inside `data/`.
 * Checked before anything is written, so an archive can never place a file outside the directory it is
 * extracted into (nor through a link that leads out of it).
 */
export function dataEntryProblem(header: Pick<Headers, 'name' | 'type' | 'linkname'>): string | undefined {
  const name = header.name;
  const shown = JSON.stringify(name);
  if (name !== DATA_PREFIX && name !== 'data' && !name.startsWith(DATA_PREFIX)) return `an entry outside data/: ${shown}`;
  if (name.includes('\0') || name.split('/').some((part) => part === '..')) return `an entry with ".." in its path: ${shown}`;
  if (header.type !== 'file' && header.type !== 'directory' && header.type !== 'symlink') return `an entry of type ${header.type ?? 'unknown'}: ${shown}`;
  if (header.type === 'symlink') {
    const target = header.linkname ?? '';
    const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(name.replace(/\/+$/, '')), target));
    if (path.posix.isAbsolute(target) || (resolved !== 'data' && !resolved.startsWith(DATA_PREFIX))) return `a symlink that leads out of data/: ${shown}`;
  }
  return undefined;
}

/** The path of an entry relative to the data directory ('' for the directory itself). */
export function dataRelativePath(name: string): string {
  return name === 'data' ? '' : name.slice(DATA_PREFIX.length).replace(/\/+$/, '');
}
