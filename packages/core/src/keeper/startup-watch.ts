import type net from 'node:net';

/** Message types that end a connection's start-up: ReadyForQuery, ErrorResponse. */
const STARTUP_END = new Set(['Z', 'E']);

/**
 * Resolves once a piped client's connection start-up is over, read from what the server sends it: ready for
 * queries ('Z'), refused ('E'), or the connection ended. Messages are a type byte and a length; before them the
 * server may answer an SSL or GSS encryption request with one byte: 'N' (go on in the clear), else the session
 * is encrypted and cannot be followed, so it resolves at once. Only watches: the bytes flow on untouched.
 */
export function startupDone(server: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    let pending: Buffer = Buffer.alloc(0);
    let skip = 0; // bytes of the current message still to come
    const done = () => {
      server.off('data', onData);
      server.off('close', done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      for (;;) {
        if (skip) {
          const n = Math.min(skip, pending.length);
          skip -= n;
          pending = pending.subarray(n);
          if (skip) return;
        }
        if (pending.length === 0) return;
        const type = String.fromCharCode(pending[0]!);
        // A lone byte while nothing else is in flight: the answer to an encryption request.
        if (pending.length === 1 && type !== 'N') return done();
        if (pending.length === 1) {
          pending = pending.subarray(1);
          return;
        }
        if (STARTUP_END.has(type)) return done();
        if (pending.length < 5) return;
        skip = 1 + pending.readInt32BE(1);
      }
    };
    server.on('data', onData);
    server.once('close', done);
  });
}
