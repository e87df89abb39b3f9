import type net from 'node:net';
import { describeCause } from '../errors.js';
import { logger } from '../log.js';
import { HELLO_TIMEOUT_MS, tokenMatches } from './pool-token.js';
import { LineDecoder, POOL_AUTH_FAILED, type PoolRequest, type PoolResponse } from './protocol.js';

const log = logger('server');

type Answer = PoolResponse extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

const REFUSAL = 'The pgbranch pool server serves only the workers of the run that started it: this connection did not present its token.';

/**
 * Reads a pool server connection's requests (one JSON object per line) and hands them to `onRequest` once
 * the first one was `hello` with the server's token. Any other first message gets one refusal
 * (`PGBRANCH_POOL_AUTH_FAILED`) and the connection is closed; what it sent along is never served. A connection
 * that says nothing for a while, or sends something that is not a line of JSON, is closed too.
 */
export function readTrustedRequests(socket: net.Socket, token: string, onRequest: (request: PoolRequest) => void): void {
  let state: 'new' | 'trusted' | 'refused' = 'new';
  const decoder = new LineDecoder();
  const silent = setTimeout(() => socket.destroy(), HELLO_TIMEOUT_MS).unref();
  socket.once('close', () => clearTimeout(silent));
  const answer = (id: unknown, response: Answer) => JSON.stringify({ id: typeof id === 'number' ? id : 0, ...response }) + '\n';

  const greet = (message: unknown): void => {
    clearTimeout(silent);
    const { id, op, token: given } = (message ?? {}) as { id?: unknown; op?: unknown; token?: unknown };
    if (op === 'hello' && tokenMatches(token, given)) {
      state = 'trusted';
      socket.write(answer(id, { ok: true, result: null }));
      return;
    }
    state = 'refused';
    log('refused a connection: %s', op === 'hello' ? 'wrong token' : `"${String(op).slice(0, 40)}" before hello`);
    socket.end(answer(id, { ok: false, error: { code: POOL_AUTH_FAILED, message: REFUSAL } }), () => socket.destroy());
  };

  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    try {
      decoder.push(chunk, (message) => {
        if (state === 'trusted') onRequest(message as PoolRequest);
        else if (state === 'new') greet(message);
      });
    } catch (err) {
      log('bad message: %s', describeCause(err));
      socket.destroy();
    }
  });
}
