import type { ClonerName } from '../../cloners/cloner.js';

/** How `CREATE DATABASE … TEMPLATE` copies the template's files. */
export interface CopyStrategy {
  strategy: 'WAL_LOG' | 'FILE_COPY';
  /** What CREATE DATABASE says for it ('' before PostgreSQL 15, which has no STRATEGY clause). */
  clause: string;
  /** Settings the template server runs with for it (file_copy_method). */
  settings: Record<string, string>;
  /** One line for `engine.info().clonerReason`. */
  reason: string;
}

/**
 * FILE_COPY copies the template's files (with a checkpoint before and after, cheap with fsync off); WAL_LOG
 * (the default since 15) reads every page through shared buffers and writes it to the WAL, in time proportional
 * to the database's size. On PostgreSQL 18, `file_copy_method = clone` copies each file with copy_file_range():
 * extents are shared on XFS reflink and btrfs, and on ext4 the kernel copies without a round trip through the
 * server. Medians of CREATE DATABASE from a 22 MB template (embedded 18.4, 2 busy cores):
 *
 *   | filesystem   | WAL_LOG | FILE_COPY copy | FILE_COPY clone |
 *   | ext4         | 158 ms  | 157 ms         | 16 ms           |
 *   | XFS reflink  | 239 ms  | 46 ms          | 22 ms           |
 *   | btrfs        | 332 ms  | 85 ms          | 26 ms           |
 *
 * So FILE_COPY everywhere, with clone wherever the server has it (18+; copy_file_range on Linux, clonefile on
 * macOS only where the cloner found clones).
 */
export function copyStrategy(major: number, cloner: ClonerName, platform: NodeJS.Platform = process.platform): CopyStrategy {
  const clones = cloner === 'reflink' || cloner === 'btrfs';
  if (major >= 18 && (clones || platform === 'linux')) {
    const how = clones ? `${cloner}: files share extents` : 'copy_file_range: copies in the kernel';
    return { strategy: 'FILE_COPY', clause: ' STRATEGY FILE_COPY', settings: { file_copy_method: 'clone' }, reason: `CREATE DATABASE … STRATEGY FILE_COPY with file_copy_method = clone (${how})` };
  }
  if (major >= 15) {
    return { strategy: 'FILE_COPY', clause: ' STRATEGY FILE_COPY', settings: {}, reason: `CREATE DATABASE … STRATEGY FILE_COPY (file copies${major >= 18 ? '' : `; PostgreSQL ${major} has no file_copy_method`})` };
  }
  // Before 15 there is no STRATEGY clause: file copies are the only way.
  return { strategy: 'FILE_COPY', clause: '', settings: {}, reason: `CREATE DATABASE … TEMPLATE (file copies, PostgreSQL ${major})` };
}
