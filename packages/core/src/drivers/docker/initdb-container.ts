import type Docker from 'dockerode';
import { scramVerifier } from '../../cache/scram-verifier.js';
import { INITDB_ARGS } from '../../snapshot/postgres-settings.js';
import { CONTAINER_DATA_DIR } from './container-spec.js';
import type { ServerContainers } from './server-containers.js';
import { ownerIds, tarOf } from './small-tar.js';

/** A data directory on this host (bind storage), with the superuser password file beside it. */
export interface InitdbOnHost {
  dataDir: string;
  passwordFile: string;
}

/**
 * A container (created, not started) that runs initdb into the data directory: the image's own (the password
 * file is put in and removed again), or a host directory mounted with the password file beside it.
 */
export async function initdbContainer(containers: ServerContainers, onHost?: InitdbOnHost): Promise<Docker.Container> {
  const { image } = containers;
  const dir = CONTAINER_DATA_DIR.slice(0, CONTAINER_DATA_DIR.lastIndexOf('/'));
  const script = [
    'set -e',
    `"${image.bindir}/initdb" -D ${CONTAINER_DATA_DIR} --pwfile=${dir}/.pw --no-sync ${INITDB_ARGS.join(' ')} >/dev/null`,
    ...(onHost ? [] : [`rm -f ${dir}/.pw`]),
    // Bridge connections come from the Docker gateway, not loopback; they still need the password.
    `echo "host all all all scram-sha-256" >> ${CONTAINER_DATA_DIR}/pg_hba.conf`,
  ].join('\n');
  const container = await containers.docker.createContainer({
    Image: image.image,
    Entrypoint: [],
    Cmd: ['sh', '-c', script],
    User: image.user,
    HostConfig: {
      NetworkMode: 'none',
      ...(onHost ? { Binds: [`${onHost.dataDir}:${CONTAINER_DATA_DIR}`, `${onHost.passwordFile}:${dir}/.pw:ro`] } : {}),
    },
    Labels: containers.labels('build'),
  });
  if (onHost) return container;
  const [uid, gid] = ownerIds(image.user);
  await container.putArchive(
    await tarOf([
      { name: dir.slice(1) + '/', type: 'directory', mode: 0o700, uid, gid },
      { name: `${dir.slice(1)}/.pw`, type: 'file', mode: 0o600, uid, gid, content: scramVerifier(containers.password) + '\n' },
    ]),
    { path: '/' },
  );
  return container;
}
