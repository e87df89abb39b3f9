import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

const BLOCK = 512;
/** Header types that change the next entry (pax, GNU long names): the entry after one is never the digest entry. */
const EXTENSIONS = new Set(['x', 'g', 'L', 'K']);

/**
 * Passes a tar stream through unchanged and hashes (sha256) its bytes up to the header of the entry named `stopAt`
 * (a plain entry, not renamed by an extension header): what a snapshot archive's digest entry covers. It walks the
 * archive header by header, so it needs no help from the tar parser that reads the same bytes after it.
 */
export class TarDigestTap extends Transform {
  private readonly hash = createHash('sha256');
  private offset = 0;
  private nextHeader = 0;
  private header: Buffer[] = [];
  private headerBytes = 0;
  private afterExtension = false;
  private done = false;
  /** Hex digest of the bytes before the `stopAt` entry, once its header went by. */
  digest: string | undefined;

  constructor(private readonly stopAt: string) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (!this.done) this.scan(chunk);
    callback(null, chunk);
  }

  private scan(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.done) {
      if (this.offset < this.nextHeader) {
        const n = Math.min(chunk.length - at, this.nextHeader - this.offset);
        this.hash.update(chunk.subarray(at, at + n));
        this.offset += n;
        at += n;
        continue;
      }
      const n = Math.min(chunk.length - at, BLOCK - this.headerBytes);
      this.header.push(chunk.subarray(at, at + n));
      this.headerBytes += n;
      at += n;
      if (this.headerBytes === BLOCK) this.onHeader(Buffer.concat(this.header));
    }
  }

  private onHeader(block: Buffer): void {
    this.header = [];
    this.headerBytes = 0;
    if (block.every((b) => b === 0)) {
      this.done = true; // the end of the archive, and no digest entry before it
      return;
    }
    const type = String.fromCharCode(block[156]!);
    const name = text(block, 0, 100);
    if (!this.afterExtension && name === this.stopAt && text(block, 345, 155) === '' && (type === '0' || type === '\0')) {
      this.digest = this.hash.digest('hex');
      this.done = true;
      return;
    }
    this.hash.update(block);
    this.offset += BLOCK;
    this.nextHeader = this.offset + Math.ceil(entrySize(block) / BLOCK) * BLOCK;
    this.afterExtension = EXTENSIONS.has(type);
  }
}

function text(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? length : end).toString('utf8');
}

/** The size field: octal, or base-256 when its first byte has the high bit set. */
function entrySize(block: Buffer): number {
  const field = block.subarray(124, 136);
  if (field[0]! & 0x80) {
    let size = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) size = size * 256 + field[i]!;
    return size;
  }
  const digits = text(block, 124, 12).trim();
  return digits ? parseInt(digits, 8) || 0 : 0;
}
