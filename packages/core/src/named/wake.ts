import net from 'node:net';
import { ServerStartError } from '../errors.js';

/**
 * Wakes a branch whose port `pgbranch serve` holds, the way any client would: by connecting. Resolves once
 * `isUp` says the branch runs; the probe connection is then closed (the server logs it as an empty startup).
 */
export async function wakeThroughFront(port: number, isUp: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await isUp()) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new ServerStartError(`The branch on port ${port} did not wake within ${timeoutMs / 1000} s through \`pgbranch serve\`; see its output.`, '');
  } finally {
    socket.destroy();
  }
}
