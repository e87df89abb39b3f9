import type Docker from 'dockerode';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { rekeyFailure, rekeyStatement } from '../../cache/rekey-statement.js';
import { PgbranchError } from '../../errors.js';
import { DATABASE } from '../../snapshot/postgres-settings.js';
import type { StoredSnapshot } from '../../snapshot/stored-snapshot.js';
import { giveTo, type RunAs } from '../../system/run-as.js';
import { CONTAINER_DATA_DIR } from './container-spec.js';
import { containerLogs } from './containers.js';
import type { ServerContainers } from './server-containers.js';
import { commitSnapshot } from './snapshot-commit.js';
import { ownerIds, tarOf } from './small-tar.js';

/** Where the data directory's parent is inside containers (`/var/lib/pgbranch`). */
const CONTAINER_DIR = CONTAINER_DATA_DIR.slice(0, CONTAINER_DATA_DIR.lastIndexOf('/'));
/** The statement file, beside the data directory, for the time the container runs. */
const STATEMENT_FILE = `${CONTAINER_DIR}/.rekey.sql`;

/**
 * Gives an imported snapshot this cache directory's superuser password and commits it as its snapshot image
 * (image storage): a container of `sourceImage` (never its entrypoint) runs `postgres --single` with the
 * ALTER ROLE statement (see rekeyStatement), which ends with a shutdown checkpoint, and is committed with the
 * labels and metadata of every snapshot image, then removed.
 *
 * `sourceImage` is the base image when `putData` puts the data directory into the container (an archive being
 * imported), or an image that has it already at CONTAINER_DATA_DIR (a snapshot image pulled from a registry).
 * `putData` runs before the container starts; when it rejects nothing is committed. Returns the stored metadata.
 */
export async function rekeyAndCommit(
  containers: ServerContainers,
  sourceImage: string,
  meta: StoredSnapshot,
  putData?: (container: Docker.Container) => Promise<void>,
): Promise<StoredSnapshot> {
  const { image } = containers;
  const [uid, gid] = ownerIds(image.user);
  const container = await containers.docker.createContainer({
    Image: sourceImage,
    Entrypoint: [],
    Cmd: ['sh', '-c', rekeyScript(image.bindir, true)],
    User: image.user,
    HostConfig: { NetworkMode: 'none' },
    Labels: containers.labels('build'),
  });
  try {
    // The statement file and its directory, owned by the image's postgres user.
    const statement = await tarOf([
      { name: `${CONTAINER_DIR.slice(1)}/`, type: 'directory', mode: 0o700, uid, gid },
      { name: STATEMENT_FILE.slice(1), type: 'file', mode: 0o600, uid, gid, content: rekeyStatement(containers.password) },
    ]);
    await container.putArchive(statement, { path: '/' });
    if (putData) await putData(container);
    await runRekey(container, meta.name);
    return await commitSnapshot(containers, container, meta);
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

/**
 * Gives a data directory on this host (bind storage) this cache directory's superuser password: a container of
 * the base image with the directory mounted runs `postgres --single` with the statement, as the image's user.
 */
export async function rekeyOnHost(containers: ServerContainers, dataDir: string, owner: RunAs): Promise<void> {
  const statementFile = path.join(path.dirname(dataDir), '.rekey.sql');
  await writeFile(statementFile, rekeyStatement(containers.password), { mode: 0o600 });
  let container: Docker.Container | undefined;
  try {
    await giveTo(owner, statementFile);
    container = await containers.docker.createContainer({
      Image: containers.image.image,
      Entrypoint: [],
      Cmd: ['sh', '-c', rekeyScript(containers.image.bindir, false)],
      User: containers.image.user,
      HostConfig: { NetworkMode: 'none', Binds: [`${dataDir}:${CONTAINER_DATA_DIR}`, `${statementFile}:${STATEMENT_FILE}:ro`] },
      Labels: containers.labels('build'),
    });
    await runRekey(container, path.basename(path.dirname(dataDir)));
  } finally {
    await container?.remove({ force: true }).catch(() => undefined);
    await rm(statementFile, { force: true });
  }
}

/** Single-user mode reads the statement from stdin; the statement file goes before anything is committed. */
function rekeyScript(bindir: string, removeStatement: boolean): string {
  return [
    `"${bindir}/postgres" --single -D ${CONTAINER_DATA_DIR} ${DATABASE} < ${STATEMENT_FILE} 2>&1`,
    'code=$?',
    ...(removeStatement ? [`rm -f ${STATEMENT_FILE} || exit 1`] : []),
    'exit $code',
  ].join('\n');
}

/** Runs the rekey container; its output, not only its exit code, says whether the statement failed. */
async function runRekey(container: Docker.Container, what: string): Promise<void> {
  await container.start();
  const result = (await container.wait()) as { StatusCode: number };
  const logs = await containerLogs(container, 200);
  const failure = rekeyFailure(logs) ?? (result.StatusCode === 0 ? undefined : `exit ${result.StatusCode}: ${logs.split('\n').slice(-3).join(' | ')}`);
  if (failure) throw new PgbranchError('PGBRANCH_REKEY_FAILED', `Could not set this cache directory's password in snapshot ${what} (postgres --single in a container): ${failure}`);
}
