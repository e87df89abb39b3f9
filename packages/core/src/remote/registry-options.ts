import { UsageError } from '../errors.js';
import { redact } from './docker-command.js';

/** The remote snapshot cache of an engine, resolved (see EngineOptions.registry). */
export interface RegistryOptions {
  /** Image repository without a tag, e.g. `ghcr.io/acme/pgbranch-snapshots` or `127.0.0.1:5000/snapshots`. */
  repository: string;
  /** Push snapshots seeded here (false: only pull, e.g. for jobs without write access). */
  push: boolean;
  /** A registry command that prints nothing for this long is stopped (and the snapshot is seeded here). Docker prints nothing while one layer moves, so it bounds each layer's transfer. @default 900 s */
  idleTimeoutMs: number;
}

/** What EngineOptions.registry accepts: a repository, or the options with it, or false to ignore PGBRANCH_REGISTRY. */
export type RegistryOption = string | false | { repository?: string; push?: boolean; idleTimeoutMs?: number };

const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const HOST = /^[a-zA-Z0-9.-]+(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$/;

/** Applies PGBRANCH_REGISTRY / PGBRANCH_REGISTRY_PUSH / PGBRANCH_REGISTRY_IDLE_TIMEOUT_MS; undefined when there is none. */
export function resolveRegistry(option: RegistryOption | undefined, env: NodeJS.ProcessEnv = process.env): RegistryOptions | undefined {
  if (option === false) return undefined;
  const given = typeof option === 'string' ? { repository: option } : (option ?? {});
  const repository = given.repository ?? (env.PGBRANCH_REGISTRY || undefined);
  if (!repository) return undefined;
  assertRepository(repository);
  const push = given.push ?? flag(env.PGBRANCH_REGISTRY_PUSH, 'PGBRANCH_REGISTRY_PUSH') ?? true;
  const idleTimeoutMs = given.idleTimeoutMs ?? positive(env.PGBRANCH_REGISTRY_IDLE_TIMEOUT_MS, 'PGBRANCH_REGISTRY_IDLE_TIMEOUT_MS') ?? 900_000;
  if (!(Number.isFinite(idleTimeoutMs) && idleTimeoutMs > 0)) throw new UsageError(`registry.idleTimeoutMs must be a positive number of milliseconds, not ${idleTimeoutMs}.`);
  return { repository, push, idleTimeoutMs };
}

function flag(value: string | undefined, name: string): boolean | undefined {
  const v = value?.trim().toLowerCase();
  if (!v) return undefined;
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new UsageError(`${name}=${value} is neither on (1, true) nor off (0, false).`);
}

function positive(value: string | undefined, name: string): number | undefined {
  if (!value?.trim()) return undefined;
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0)) throw new UsageError(`${name}=${value} is not a positive number of milliseconds.`);
  return n;
}

/** A repository reference as Docker spells it, without a tag or digest (pgbranch tags by content hash). */
export function assertRepository(repository: string): void {
  const host = registryHost(repository);
  const parts = repository.split('/').slice(host === undefined ? 0 : 1);
  const ok = (host === undefined || HOST.test(host)) && parts.length > 0 && parts.every((p) => COMPONENT.test(p));
  if (!ok) {
    const tagged = /:[^/]*$/.test(repository) && !/^[^/]*:[0-9]+$/.test(repository);
    throw new UsageError(
      `Registry repository "${redact(repository)}" is not an image repository name${tagged ? ' (give it without a tag: snapshots are tagged by their content hash)' : ''}: ` +
        'use e.g. ghcr.io/acme/pgbranch-snapshots or 127.0.0.1:5000/snapshots (lower case).',
    );
  }
}

/** The registry host of a repository or image reference (its first part, when that names a host), as Docker reads it. */
export function registryHost(reference: string): string | undefined {
  const first = reference.split('/')[0]!;
  return reference.includes('/') && /[.:]|^localhost$/.test(first) ? first : undefined;
}

/** The image reference of one snapshot in the repository. */
export function snapshotRef(repository: string, hash: string): string {
  return `${repository}:${hash}`;
}
