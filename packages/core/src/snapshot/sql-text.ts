import { isUtf8 } from 'node:buffer';
import { readFile } from 'node:fs/promises';
import { SeedError } from '../errors.js';
import type { RecipeFile } from './recipe.js';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Reads a recipe's SQL file as UTF-8 text (the encoding of every cluster pgbranch makes). Anything else is refused
 * before it reaches the server: a Latin-1 file would otherwise be stored with U+FFFD where its accents were, and a
 * binary file would end in an error quoting its bytes. A leading byte order mark is dropped.
 */
export async function readSqlText(file: RecipeFile, snapshotName: string): Promise<string> {
  const bytes = await readFile(file.path);
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    throw new SeedError(
      `Snapshot "${snapshotName}": ${file.display} is not a text SQL file: contains NUL bytes at offset ${nul} (line ${lineAt(bytes, nul)}). ` +
        'Check the --sql paths (directories take only their .sql files). Nothing was cached.',
      file.path,
      lineAt(bytes, nul),
      undefined,
    );
  }
  const body = bytes.subarray(0, 3).equals(BOM) ? bytes.subarray(3) : bytes;
  if (!isUtf8(body)) {
    const offset = firstInvalidUtf8(body) + (body === bytes ? 0 : BOM.length);
    const line = lineAt(bytes, offset);
    throw new SeedError(
      `Snapshot "${snapshotName}": ${file.display} is not valid UTF-8: byte 0x${bytes[offset]!.toString(16).padStart(2, '0')} at offset ${offset} (line ${line}) ` +
        'starts no valid character. Save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`). Nothing was cached.',
      file.path,
      line,
      undefined,
    );
  }
  return body.toString('utf8');
}

/** 1-based line of a byte offset. */
function lineAt(bytes: Buffer, offset: number): number {
  let line = 1;
  for (let i = bytes.indexOf(0x0a); i >= 0 && i < offset; i = bytes.indexOf(0x0a, i + 1)) line++;
  return line;
}

/**
 * Offset of the first byte that does not begin a well-formed UTF-8 sequence (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), or -1. Only called on text `isUtf8` already rejected, to say where.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const [length, min, max] =
      b < 0x80 ? [1, 0, 0] : b >= 0xc2 && b <= 0xdf ? [2, 0x80, 0xbf] : b === 0xe0 ? [3, 0xa0, 0xbf] : b === 0xed ? [3, 0x80, 0x9f]
      : b >= 0xe1 && b <= 0xef ? [3, 0x80, 0xbf] : b === 0xf0 ? [4, 0x90, 0xbf] : b >= 0xf1 && b <= 0xf3 ? [4, 0x80, 0xbf] : b === 0xf4 ? [4, 0x80, 0x8f]
      : [0, 0, 0];
    if (length === 0 || i + length > bytes.length) return i;
    // The second byte has the narrowed range; the rest are plain continuation bytes.
    if (length > 1 && (bytes[i + 1]! < min || bytes[i + 1]! > max)) return i;
    for (let k = 2; k < length; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return i;
    i += length;
  }
  return -1;
}
