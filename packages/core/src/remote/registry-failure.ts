import { describeCause, RegistryError } from '../errors.js';
import { DockerCommandError, redact } from './docker-command.js';
import { registryHost } from './registry-options.js';

/** How a registry command failed: the snapshot is not there (not an error), or the registry cannot be used. */
export type RegistryOutcome = { kind: 'missing' } | { kind: 'failed'; error: RegistryError };

const MISSING = /manifest unknown|not found: manifest|manifest for .* not found|no such manifest|name unknown|repository name not known|failed to resolve reference .*not found/i;
/** Docker Hub says this of a repository that does not exist yet, as of one the account may not read. */
const HUB_MISSING = /pull access denied .*repository does not exist/i;
const UNAUTHORIZED = /unauthorized|authentication required|no basic auth credentials|denied|status(?: code)?:? 40[13]\b|\b40[13] (?:unauthorized|forbidden)/i;
const NO_DAEMON = /cannot connect to the docker daemon|is the docker daemon running/i;
const UNREACHABLE = /connection refused|no such host|i\/o timeout|dial tcp|server gave http response to https client|network is unreachable|tls|EOF/i;

/**
 * Classifies a failed registry command. `ref` is the image reference (no credentials are ever in it); `during`
 * says what was being done ("looking up", "pushing").
 */
export function registryFailure(err: unknown, ref: string, during: string): RegistryOutcome {
  if (!(err instanceof DockerCommandError)) {
    return { kind: 'failed', error: new RegistryError('PGBRANCH_REGISTRY_FAILED', `Snapshot registry: ${during} ${ref} failed: ${describeCause(err)}.`, { cause: err }) };
  }
  // The reference itself (a hash may contain "401", a port "4030") is no evidence of anything.
  const text = redact(err.stderr);
  const evidence = text.split(ref).join('<ref>');
  if (err.reason === 'spawn') {
    return failed('PGBRANCH_REGISTRY_NO_DOCKER', `Snapshot registry: ${during} ${ref} needs the docker CLI and a Docker engine, and \`docker\` could not be run (${text.trim()}); install Docker or unset the registry`, err);
  }
  if (err.reason === 'idle') return failed('PGBRANCH_REGISTRY_STALLED', `Snapshot registry: ${during} ${ref} made no progress and was stopped; check the registry, or raise PGBRANCH_REGISTRY_IDLE_TIMEOUT_MS`, err);
  if (NO_DAEMON.test(evidence)) return failed('PGBRANCH_REGISTRY_NO_DOCKER', `Snapshot registry: ${during} ${ref} needs a Docker engine, and none answers (${lastLine(text)}); start Docker or unset the registry`, err);
  if ((MISSING.test(evidence) && !UNAUTHORIZED.test(evidence)) || (during !== 'pushing' && HUB_MISSING.test(evidence))) return { kind: 'missing' };
  if (UNAUTHORIZED.test(evidence)) {
    return failed('PGBRANCH_REGISTRY_UNAUTHORIZED', `Snapshot registry: ${during} ${ref} was refused (${lastLine(text)}); log the Docker CLI in to the registry (\`docker login ${registryHost(ref) ?? 'docker.io'}\`) with an account that may ${during === 'pushing' ? 'push' : 'pull'}`, err);
  }
  if (UNREACHABLE.test(evidence)) {
    return failed('PGBRANCH_REGISTRY_UNREACHABLE', `Snapshot registry: ${during} ${ref}: the registry is not reachable (${lastLine(text)}); check its address and that it runs`, err);
  }
  return failed('PGBRANCH_REGISTRY_FAILED', `Snapshot registry: ${during} ${ref} failed (${lastLine(text) || err.message})`, err);
}

function failed(code: string, message: string, cause: unknown): RegistryOutcome {
  return { kind: 'failed', error: new RegistryError(code, `${message}.`, { cause }) };
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).slice(-1)[0]?.replace(/^Error( response from daemon)?:\s*/i, '').trim() ?? '';
}
