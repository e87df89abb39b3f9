/** Engines alive in this process, cleaned up synchronously if the process exits without disposing them. */
const live = new Set<{ cleanupSync(): void }>();
let installed = false;

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export function registerForExit(engine: { cleanupSync(): void }): () => void {
  install();
  live.add(engine);
  return () => live.delete(engine);
}

function cleanupAll(): void {
  for (const engine of [...live]) {
    live.delete(engine);
    try {
      engine.cleanupSync();
    } catch {
      // Best effort: the next engine or `pgbranch gc` reaps what is left.
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanupAll);
  for (const signal of SIGNALS) {
    const onSignal = (): void => {
      // Only act as the default handler: when someone else handles the signal, they decide to exit (and 'exit' cleans up).
      if (process.listenerCount(signal) > 1) return;
      cleanupAll();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}
