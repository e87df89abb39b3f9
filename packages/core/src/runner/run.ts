import type { PoolServer } from '../server/pool-server.js';
import type { SnapshotOrigin } from '../branch/branch.js';
import { runSummary } from './run-summary.js';
import { runnerSettings, type RunnerOptions, type RunnerSettings } from './runner-options.js';

/** Where the run's options apply. */
export interface RunPlace {
  /** The project root: SQL files, `hashInputs` and messages are relative to it. */
  root: string;
  /** The snapshot's name when the options give none (the runner's name). */
  name: string;
}

/** A started test run: its pool server, and what its workers need to reach it. */
export interface Run {
  readonly server: PoolServer;
  readonly address: string;
  /** Give it only to this run's workers (see `PoolServer.token`). */
  readonly token: string;
  /** The per-file settings every worker applies. */
  readonly settings: RunnerSettings;
  readonly snapshot: { name: string; hash: string; reused: boolean; origin: SnapshotOrigin };
  /** Stops the pool server (every branch but kept ones) and prints the run's summary and kept branches on stdout. */
  end(): Promise<void>;
}

/**
 * A runner's global setup: seeds or reuses the snapshot of the options' recipe and starts the pool server
 * that the run's workers lease branches from. A failure leaves nothing behind (the server closes its engine).
 */
export async function startRun(options: RunnerOptions, place: RunPlace): Promise<Run> {
  // Loaded here, not at the top: workers import this module too, and must not load the engine for every file.
  const { PoolServer } = await import('../server/pool-server.js');
  const server = await PoolServer.start({
    engine: options,
    recipes: { default: { name: options.name ?? place.name, sql: options.sql, init: options.init, hashInputs: options.hashInputs, baseDir: place.root } },
    pool: options,
    teardownTimeout: options.teardownTimeout,
  });
  const [snapshot] = server.snapshotInfo();
  let ended: Promise<void> | undefined;
  return {
    server,
    address: server.address,
    token: server.token,
    settings: runnerSettings(options),
    snapshot: { name: snapshot!.name, hash: snapshot!.hash, reused: snapshot!.reused, origin: snapshot!.origin },
    end: () =>
      (ended ??= (async () => {
        const { summary, kept } = runSummary(server);
        // Printed before closing: closing waits for a registry push, which a runner's own timeout may cut short.
        const lines = [...(summary && (options.summary ?? true) ? [summary] : []), ...kept];
        process.stdout.write(lines.map((l) => l + '\n').join(''));
        await server.close();
      })()),
  };
}
