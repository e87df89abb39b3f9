import type { Readable } from 'node:stream';
import type { Extract } from 'tar-stream';

/**
 * Feeds a tar stream to a tar parser, with backpressure; a failure of the stream (even one that failed before it
 * got here, which `pipe` would never report) destroys the parser with its error, so that whoever reads the
 * parser's entries learns of it instead of waiting forever.
 */
export function feedTar(tar: Readable, parser: Extract): void {
  const feed = async (): Promise<void> => {
    if (tar.destroyed && !tar.readableEnded) throw tar.errored ?? new Error('the tar stream was closed before its end');
    for await (const chunk of tar as AsyncIterable<Buffer>) {
      if (parser.destroyed) return;
      if (!parser.write(chunk)) await drained(parser);
    }
    parser.end();
  };
  feed().catch((err: Error) => parser.destroy(err));
}

/** Writes a chunk with backpressure; a sink that closes meanwhile (destroyed, failed) ends the wait, never hangs it. */
export async function writeChunk(sink: NodeJS.WritableStream & { destroyed?: boolean }, chunk: Buffer): Promise<void> {
  if (sink.destroyed) throw new Error('the tar entry was closed before its end');
  if (!sink.write(chunk)) await drained(sink);
}

/** Copies one entry's contents into a packed entry and waits until the packer took it all. */
export async function copyEntry(entry: AsyncIterable<Buffer>, sink: NodeJS.WritableStream & { destroyed?: boolean }): Promise<void> {
  const finished = new Promise<void>((resolve, reject) => {
    sink.on('finish', resolve);
    sink.on('error', reject);
  });
  finished.catch(() => undefined); // awaited below, after the contents: a failure meanwhile must not go unhandled
  for await (const chunk of entry) await writeChunk(sink, chunk);
  sink.end();
  await finished;
}

/** Resolves when a writable drains or closes, rejects when it fails; its listeners go either way. */
function drained(sink: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (err?: Error) => {
      sink.off('drain', onDrain).off('close', onDrain).off('error', settle);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => settle();
    sink.on('drain', onDrain).on('close', onDrain).on('error', settle);
  });
}
