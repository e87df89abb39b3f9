/** Where one branch runs and keeps its data, as its handle (or a script holding it) reports. */
export interface BranchResources {
  pid?: number;
  dir?: string;
  containerId?: string;
  /** The branch's database (the template driver's branches are databases of a shared server). */
  database?: string;
}

/**
 * What a driver leaves on the machine, so the shared suite can prove "nothing leaked" for each driver.
 * Every function returns descriptions of what is still there (`postgres pid 123`, `mount /x`): `[]` means gone.
 */
export interface DriverChecks {
  /** Servers, mounts, containers… of a cache directory still there: `[]` once its engine closed. */
  leftovers(cacheDir: string): string[];
  /** The branch's server, while it runs. */
  runningServers(branch: BranchResources): string[];
  /** What holds the branch's data on this machine (directory, mounts, container), running or suspended. */
  storage(branch: BranchResources): string[];
  /** Snapshots of branches (they belong to the owner session that made them), of one session if given. */
  branchSnapshots(cacheDir: string, session?: string): string[];
  /** The uid that runs the branch's server process, as the host sees it; undefined when it has no process of its own. */
  serverUid(branch: BranchResources): number | undefined;
}
