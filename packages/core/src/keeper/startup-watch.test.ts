import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import { startupDone } from './startup-watch.js';

/** A protocol message: type byte, length (itself included), body. */
function message(type: string, body = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

/** Feeds `chunks` as the server's data and says after each one whether the start-up counts as over. */
async function doneAfter(chunks: Buffer[], end?: 'close'): Promise<boolean[]> {
  const server = new EventEmitter();
  let done = false;
  void startupDone(server as net.Socket).then(() => (done = true));
  const seen: boolean[] = [];
  for (const chunk of chunks) {
    server.emit('data', chunk);
    await new Promise((r) => setImmediate(r));
    seen.push(done);
  }
  if (end) {
    server.emit(end);
    await new Promise((r) => setImmediate(r));
    seen.push(done);
  }
  return seen;
}

const SASL = message('R', Buffer.from('\0\0\0\x0aSCRAM-SHA-256\0\0', 'latin1'));
const AUTH_OK = message('R', Buffer.alloc(4));
const PARAMS = Buffer.concat([message('S', Buffer.from('server_version\x0018.4\0', 'latin1')), message('K', Buffer.alloc(8))]);
const READY = message('Z', Buffer.from('I'));

describe('startupDone (what a server sends a new client)', () => {
  it('is over at ReadyForQuery, whatever came before and however the bytes are split', async () => {
    expect(await doneAfter([SASL, message('R', Buffer.alloc(40)), Buffer.concat([AUTH_OK, PARAMS]), READY])).toEqual([false, false, false, true]);
    const all = Buffer.concat([SASL, AUTH_OK, PARAMS, READY]);
    const split = [all.subarray(0, 3), all.subarray(3, 20), all.subarray(20, all.length - 7), all.subarray(all.length - 7)];
    expect(await doneAfter(split)).toEqual([false, false, false, true]);
  });

  it('is over when the server refuses the client', async () => {
    expect(await doneAfter([SASL, message('E', Buffer.from('SFATAL\0\0', 'latin1'))])).toEqual([false, true]);
  });

  it('follows a connection that asked for encryption and was told no', async () => {
    expect(await doneAfter([Buffer.from('N'), Buffer.concat([SASL, AUTH_OK]), Buffer.concat([PARAMS, READY])])).toEqual([false, false, true]);
  });

  it('gives up at once on an encrypted session, and at the end of the connection', async () => {
    expect(await doneAfter([Buffer.from('S')])).toEqual([true]);
    expect(await doneAfter([SASL], 'close')).toEqual([false, true]);
  });
});
