/**
 * Polls `check` until it holds, failing after `timeoutMs`. For states another process reaches on its own time
 * (a server exiting, a lease released over a socket), never for measuring how long something takes.
 */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, intervalMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
