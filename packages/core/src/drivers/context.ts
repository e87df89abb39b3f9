import type { CacheLayout } from '../cache/layout.js';
import type { SessionRecord } from '../cache/session.js';
import type { Cloner } from '../cloners/cloner.js';
import type { RunAs } from '../system/run-as.js';
import type { PostgresBinaries } from './local/binaries.js';

/** What a driver's snapshots and branches share: settled once by its registration. */
export interface DriverContext {
  layout: CacheLayout;
  session: SessionRecord;
  /** How data directories are cloned on this host (the copy cloner where a driver clones nothing). */
  cloner: Cloner;
  runAs: RunAs;
  /** Runtime server settings (defaults merged with the user's and the driver's own). */
  settings: Record<string, string>;
  /** Superuser password for TCP connections (never logged). */
  password: string;
}

/** Drivers whose servers run from local binaries. */
export interface LocalContext extends DriverContext {
  binaries: PostgresBinaries;
}
