import { describe, expect, it } from 'vitest';
import { DockerCommandError, redact } from './docker-command.js';
import { registryFailure } from './registry-failure.js';
import { assertRepository, resolveRegistry } from './registry-options.js';

const failure = (stderr: string, ref = '127.0.0.1:5000/snaps:0123456789abcdef01234567', during = 'looking up') =>
  registryFailure(new DockerCommandError(['pull', ref], stderr, 'exit'), ref, during);
const codeOf = (outcome: ReturnType<typeof registryFailure>) => (outcome.kind === 'missing' ? 'missing' : outcome.error.code);

describe('registry failures, as the docker CLI reports them', () => {
  it('tells a missing snapshot from a refusal, an unreachable registry and a missing engine', () => {
    const ref = '127.0.0.1:5000/snaps:0123456789abcdef01234567';
    expect(codeOf(failure(`Error response from daemon: manifest for ${ref} not found: manifest unknown: manifest unknown`))).toBe('missing');
    expect(codeOf(failure(`failed to resolve reference "${ref}": ${ref}: not found`))).toBe('missing');
    expect(codeOf(failure('Error response from daemon: pull access denied for acme/snaps, repository does not exist or may require \'docker login\'', 'acme/snaps:ab'))).toBe('missing');
    expect(codeOf(failure('Error response from daemon: Head "http://127.0.0.1:5000/v2/snaps/manifests/x": no basic auth credentials'))).toBe('PGBRANCH_REGISTRY_UNAUTHORIZED');
    expect(codeOf(failure('unauthorized: authentication required', undefined, 'pushing'))).toBe('PGBRANCH_REGISTRY_UNAUTHORIZED');
    expect(codeOf(failure('Error response from daemon: Get "http://127.0.0.1:9/v2/": dial tcp 127.0.0.1:9: connect: connection refused'))).toBe('PGBRANCH_REGISTRY_UNREACHABLE');
    expect(codeOf(failure('Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?'))).toBe('PGBRANCH_REGISTRY_NO_DOCKER');
  });

  it('takes no evidence from the reference itself (a hash with 401 in it, a port 4030)', () => {
    const ref = '127.0.0.1:4030/snaps:40140300000000000000abcd';
    expect(codeOf(failure(`manifest for ${ref} not found: manifest unknown`, ref))).toBe('missing');
    expect(codeOf(failure(`Get "http://127.0.0.1:4030/v2/": dial tcp 127.0.0.1:4030: connect: connection refused`, ref))).toBe('PGBRANCH_REGISTRY_UNREACHABLE');
  });

  it('repeats no credentials nor signed URLs', () => {
    expect(redact('Get "https://user:s3cret@registry.example/v2/": EOF')).toBe('Get "https://…@registry.example/v2/": EOF');
    expect(redact('GET https://blobs.example/x?X-Amz-Signature=abc&X-Amz-Security-Token=def failed')).toBe('GET https://blobs.example/x?… failed');
    const outcome = failure('error pulling: GET https://blobs.example/b?X-Amz-Signature=SIGVALUE: i/o timeout');
    expect(outcome.kind === 'failed' && outcome.error.message).not.toMatch(/SIGVALUE/);
    expect(() => assertRepository('user:tok3n@ghcr.io/acme/x')).toThrow(/…@ghcr\.io/);
    expect(() => assertRepository('user:tok3n@ghcr.io/acme/x')).not.toThrow(/tok3n/);
  });
});

describe('registry options', () => {
  it('reads the repository and push switch from the environment; false turns it off', () => {
    expect(resolveRegistry(undefined, {})).toBeUndefined();
    expect(resolveRegistry(undefined, { PGBRANCH_REGISTRY: 'ghcr.io/acme/snaps' })).toEqual({ repository: 'ghcr.io/acme/snaps', push: true, idleTimeoutMs: 900_000 });
    expect(resolveRegistry(undefined, { PGBRANCH_REGISTRY: '127.0.0.1:5000/snaps', PGBRANCH_REGISTRY_PUSH: '0' })?.push).toBe(false);
    expect(resolveRegistry(false, { PGBRANCH_REGISTRY: 'ghcr.io/acme/snaps' })).toBeUndefined();
    expect(resolveRegistry({ repository: 'localhost:5000/a/b', push: false, idleTimeoutMs: 2000 }, {})).toEqual({ repository: 'localhost:5000/a/b', push: false, idleTimeoutMs: 2000 });
  });

  it('refuses what would fail later: a tag, upper case, a bad switch or timeout', () => {
    expect(() => resolveRegistry('ghcr.io/acme/snaps:latest', {})).toThrow(/without a tag/);
    expect(() => resolveRegistry('ghcr.io/Acme/snaps', {})).toThrow(/lower case/);
    expect(() => resolveRegistry(undefined, { PGBRANCH_REGISTRY: 'ghcr.io/a', PGBRANCH_REGISTRY_PUSH: 'maybe' })).toThrow(/PGBRANCH_REGISTRY_PUSH=maybe/);
    expect(() => resolveRegistry(undefined, { PGBRANCH_REGISTRY: 'ghcr.io/a', PGBRANCH_REGISTRY_IDLE_TIMEOUT_MS: '0' })).toThrow(/positive/);
  });
});
