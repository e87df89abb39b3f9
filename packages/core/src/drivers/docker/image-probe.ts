import type Docker from 'dockerode';
import { createHash } from 'node:crypto';
import { PgbranchError } from '../../errors.js';
import { logger } from '../../log.js';
import { runToCompletion } from './containers.js';

const log = logger('docker');

/** What pgbranch needs to know about an image to run Postgres in it without its entrypoint. */
export interface ImageInfo {
  image: string;
  imageId: string;
  bindir: string;
  /** The image's postgres user, as `uid:gid`. */
  user: string;
  version: string;
  major: number;
  /** Stable identity for snapshot hashes. */
  identity: string;
}

// Finds initdb and postgres: pg_config, then PATH, then the usual install locations.
const PROBE = `
for d in "$(pg_config --bindir 2>/dev/null)" $(echo "$PATH" | tr ':' ' ') /usr/lib/postgresql/*/bin /usr/local/pgsql/bin /usr/pgsql-*/bin; do
  if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/postgres" ]; then echo "bindir=$d"; "$d/postgres" --version; break; fi
done
echo "uid=$(id -u postgres 2>/dev/null)"
echo "gid=$(id -g postgres 2>/dev/null)"
`;

const cache = new Map<string, Promise<ImageInfo>>();

/** Ensures the image is present (pulling with progress if not) and finds its Postgres binaries and user. */
export function probeImage(docker: Docker, image: string): Promise<ImageInfo> {
  let found = cache.get(image);
  if (!found) {
    found = probe(docker, image);
    cache.set(image, found);
    found.catch(() => cache.delete(image));
  }
  return found;
}

async function probe(docker: Docker, image: string): Promise<ImageInfo> {
  const imageId = await ensureImage(docker, image);
  const container = await docker.createContainer({
    Image: image,
    Entrypoint: [],
    Cmd: ['sh', '-c', PROBE],
    User: 'root',
    HostConfig: { NetworkMode: 'none' },
    Labels: { 'org.pgbranch.managed': '1', 'org.pgbranch.kind': 'probe' },
  });
  let out: string;
  try {
    out = await runToCompletion(container, `Probing image ${image} for Postgres`);
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
  const bindir = /^bindir=(.+)$/m.exec(out)?.[1];
  const version = /PostgreSQL\)? (\d+(?:\.\d+)?)/.exec(out)?.[1];
  const uid = /^uid=(\d+)$/m.exec(out)?.[1];
  const gid = /^gid=(\d+)$/m.exec(out)?.[1];
  if (!bindir || !version) {
    throw new PgbranchError('PGBRANCH_IMAGE_WITHOUT_POSTGRES', `Image ${image} has no Postgres server binaries (initdb and postgres were not found via pg_config, PATH or /usr/lib/postgresql/*/bin). Use an image that contains Postgres, e.g. postgres:17-alpine.`);
  }
  if (!uid || !gid) {
    throw new PgbranchError('PGBRANCH_IMAGE_WITHOUT_POSTGRES_USER', `Image ${image} has no "postgres" user to run the server as (Postgres refuses root). Add one to the image.`);
  }
  const info: ImageInfo = {
    image,
    imageId,
    bindir,
    user: `${uid}:${gid}`,
    version,
    major: parseInt(version, 10),
    identity: `docker|${createHash('sha256').update(imageId).digest('hex').slice(0, 24)}|${bindir}|${version}`,
  };
  log('image %s: %o', image, info);
  return info;
}

/** Returns the image id, pulling the image first (progress on a TTY) when it is not present. */
async function ensureImage(docker: Docker, image: string): Promise<string> {
  const existing = await docker.getImage(image).inspect().catch(() => undefined);
  if (existing) return existing.Id;
  const tty = Boolean(process.stderr.isTTY);
  try {
    const stream = await docker.pull(image);
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(
        stream,
        (err) => (err ? reject(err) : resolve()),
        (event: { status?: string; progress?: string; id?: string }) => {
          if (tty) process.stderr.write(`\r\x1b[Kpgbranch: pulling ${image}: ${event.id ?? ''} ${event.status ?? ''} ${event.progress ?? ''}`);
        },
      ),
    );
    if (tty) process.stderr.write('\r\x1b[K');
  } catch (err) {
    throw new PgbranchError('PGBRANCH_IMAGE_PULL_FAILED', `Image ${image} is not present and could not be pulled: ${(err as Error).message}. Pull or build it first.`, { cause: err });
  }
  return (await docker.getImage(image).inspect()).Id;
}
