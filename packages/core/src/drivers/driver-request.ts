import type { EngineUse } from '../cache/engine-use.js';
import type { CacheLayout } from '../cache/layout.js';
import type { SessionRecord } from '../cache/session.js';
import type { ClonerName } from '../cloners/cloner.js';
import type { DockerOptions } from './docker/docker-options.js';

/** What the engine hands a driver's registration to make the driver. */
export interface DriverRequest {
  layout: CacheLayout;
  session: SessionRecord;
  /** What the engine is opened for: 'read' must write nothing, only 'build' probes cloners. */
  use: EngineUse;
  /** Superuser password of the snapshots this cache directory builds (never logged). */
  password: string;
  cloner: 'auto' | ClonerName;
  /** Directory with `initdb` and `postgres` (else found as documented in EngineOptions). */
  binDir: string | undefined;
  /** When running as root, the unprivileged user that runs local servers. */
  user: string | number | undefined;
  docker: DockerOptions;
  /** The user's server settings, merged over the driver's defaults. */
  settings: Record<string, string>;
}
