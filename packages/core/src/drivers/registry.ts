import { describeCause, NoPostgresError, PgbranchError, UsageError } from '../errors.js';
import { dockerRegistration } from './docker/docker-setup.js';
import type { Driver, DriverRegistration } from './driver.js';
import type { DriverRequest } from './driver-request.js';
import { localRegistration } from './local/local-registration.js';
import { templateRegistration } from './template/template-registration.js';

/** Every driver, in the order driver 'auto' tries them. Adding a driver: its folder, and one line here. */
export const DRIVERS = [localRegistration, dockerRegistration, templateRegistration] as const satisfies readonly DriverRegistration[];

/** A driver's name, or 'auto' (the first of the auto drivers that can run here). */
export type DriverChoice = 'auto' | (typeof DRIVERS)[number]['name'];

export function driverNames(): string[] {
  return DRIVERS.map((d) => d.name);
}

/** Throws a UsageError for a driver name that is not registered. */
export function assertDriverName(name: string): void {
  if (name !== 'auto' && !DRIVERS.some((d) => d.name === name)) {
    throw new UsageError(`Unknown driver "${name}": use auto, ${driverNames().join(', ')}.`);
  }
}

/**
 * Makes the chosen driver. 'auto' tries the auto drivers in order and takes the first that can run here: an
 * error other than "not available here" (e.g. installed binaries that cannot run) stops it, since falling back
 * would hide the fix and fail later for another reason.
 */
export async function createDriver(choice: string, request: DriverRequest): Promise<Driver> {
  assertDriverName(choice);
  if (choice !== 'auto') return DRIVERS.find((d) => d.name === choice)!.create(request);
  const reasons: string[] = [];
  let lastError: unknown;
  const candidates = DRIVERS.filter((d) => d.auto);
  for (const [i, registration] of candidates.entries()) {
    try {
      return await registration.create(request);
    } catch (err) {
      const isLast = i === candidates.length - 1;
      if (!isUnavailable(err) && !isLast) throw err;
      const name = registration.name[0]!.toUpperCase() + registration.name.slice(1);
      reasons.push(`${name}: ${isLast ? describeCause(err) : (err as Error).message}`);
      lastError = err;
    }
  }
  throw new NoPostgresError(
    `driver 'auto' found no way to run Postgres. ${reasons.join(' ')} Install one of them (the local binaries need no Docker), or set driver explicitly.`,
    { cause: lastError },
  );
}

/** Errors that mean "this driver cannot run on this machine" (not "it is broken here"). */
const UNAVAILABLE = new Set(['PGBRANCH_BINARIES_NOT_FOUND', 'PGBRANCH_DOCKER_UNAVAILABLE', 'PGBRANCH_DOCKERODE_MISSING']);
function isUnavailable(err: unknown): boolean {
  return err instanceof PgbranchError && UNAVAILABLE.has(err.code);
}
