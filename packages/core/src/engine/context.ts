import type { Cloner } from '../cloners/cloner.js';
import type { Driver } from '../drivers/driver.js';
import type { PostgresBinaries } from '../drivers/local/binaries.js';
import type { RunAs } from '../system/run-as.js';
import type { CacheLayout } from '../cache/layout.js';
import type { SessionRecord } from '../cache/session.js';

/** What snapshots and branches need from their engine. */
export interface EngineContext {
  layout: CacheLayout;
  session: SessionRecord;
  /** Where Postgres runs (set right after the context is made). */
  driver: Driver;
  cloner: Cloner;
  /** Local Postgres binaries; the local driver always has them. */
  binaries: PostgresBinaries;
  runAs: RunAs;
  /** Runtime server settings (defaults merged with the user's). */
  settings: Record<string, string>;
  /** Superuser password for TCP connections (never logged). */
  password: string;
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
