import type { Driver } from '../drivers/driver.js';

/** What snapshots and branches need from their engine. */
export interface BranchContext {
  /** Where Postgres runs. */
  driver: Driver;
  /** The engine's owner record id: snapshots of branches are filed under it. */
  sessionId: string;
  /** Called when a branch is created or destroyed, so the engine can clean up what is left at exit. */
  track(resource: TrackedResource): () => void;
}

/** Something the engine must stop/remove if the process exits without disposing it. */
export interface TrackedResource {
  /** Synchronous best-effort cleanup for process exit. */
  cleanupSync(): void;
  /** Asynchronous cleanup for engine disposal. */
  dispose(): Promise<void>;
}
