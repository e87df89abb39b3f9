/**
 * The spawn helper process (see spawn-helper.ts): starts the processes its parent asks for and reports back.
 * Node built-ins only, so it runs wherever its file is, whatever resolves packages in the parent (PnP included).
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { HelperReply, HelperRequest } from './spawn-helper-protocol.js';

const send = (reply: HelperReply) => process.send?.(reply);

// Ctrl-C reaches the whole process group; the parent may still need this helper to clean up, so only the parent
// going away (the channel closing) ends it. The servers it started are detached and outlive it, as they outlive
// a parent that spawns them itself; the parent's engine stops or reaps them.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => undefined);
process.on('disconnect', () => process.exit(0));

process.on('message', (request: HelperRequest) => {
  if (request.t === 'spawn') {
    let log: number | undefined;
    try {
      log = request.logFile === undefined ? undefined : openSync(request.logFile, 'a', 0o600);
      const child = spawn(request.file, request.args, {
        ...(request.uid === undefined ? {} : { uid: request.uid, gid: request.gid }),
        stdio: ['ignore', log ?? 'ignore', log ?? 'ignore'],
        detached: request.detached,
        env: request.env,
      });
      child.once('error', (err: NodeJS.ErrnoException) => send({ t: 'error', id: request.id, message: err.message, code: err.code }));
      child.once('exit', (code, signal) => send({ t: 'exit', id: request.id, code, signal }));
      if (child.pid !== undefined) send({ t: 'spawned', id: request.id, pid: child.pid });
    } catch (err) {
      send({ t: 'error', id: request.id, message: (err as Error).message, code: (err as NodeJS.ErrnoException).code });
    } finally {
      if (log !== undefined) closeSync(log);
    }
  } else if (request.t === 'exec') {
    const as = request.uid === undefined ? {} : { uid: request.uid, gid: request.gid };
    execFile(request.file, request.args, { timeout: request.timeoutMs, maxBuffer: 16 << 20, env: request.env, ...as }, (err, stdout, stderr) => {
      const failure = err ? { message: err.message, code: (err as NodeJS.ErrnoException).code } : undefined;
      send({ t: 'done', id: request.id, stdout: String(stdout), stderr: String(stderr), failure });
    });
  }
});
