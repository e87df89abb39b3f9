import type { ClonerName } from '../cloners/cloner.js';
import type { ProbeResult } from '../cloners/select-cloner.js';
import type { Driver } from '../drivers/driver.js';

/** What the engine chose, for people and tools (`pgbranch doctor`). */
export interface EngineInfo {
  /** The driver's name (see `DRIVERS`). */
  driver: string;
  /**
   * How branches share their snapshot's data: the cloner (local driver, docker bind storage), 'docker-layers'
   * (docker image storage: the storage driver copies on write) or 'template-database' (template driver).
   */
  cloner: ClonerName | 'docker-layers' | 'template-database';
  clonerReason: string;
  clonerProbes: ProbeResult[];
  postgresVersion: string;
  /** Local binaries' directory (local driver). */
  binDir: string | undefined;
  binariesFrom: string;
  /** Image (docker driver). */
  image: string | undefined;
  cacheDir: string;
  /** User the servers run as (differs from the current user when running as root). */
  serverUser: string;
  session: string;
}

/** The engine's choices as its driver reports them. */
export function engineInfo(driver: Driver, cacheDir: string, session: string): EngineInfo {
  const { info } = driver;
  return {
    driver: driver.name,
    cloner: info.storage as EngineInfo['cloner'],
    clonerReason: info.storageReason,
    clonerProbes: info.probes,
    postgresVersion: info.postgresVersion,
    binDir: info.binDir,
    binariesFrom: info.binariesFrom,
    image: info.image,
    cacheDir,
    serverUser: info.serverUser,
    session,
  };
}
