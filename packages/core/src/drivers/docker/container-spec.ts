import type Docker from 'dockerode';

/** Where the data directory lives inside containers: outside any VOLUME of official images, so commits keep it. */
export const CONTAINER_DATA_DIR = '/var/lib/pgbranch/data';
/** The port the server listens on inside a container on a bridge network. */
export const BRIDGE_PORT = 5432;

export interface ServerContainerSpec {
  image: string;
  bindir: string;
  /** The image's postgres user (name or uid:gid). */
  user: string;
  /** 'host': the server listens on 127.0.0.1:hostPort in the host's network. 'bridge': 5432 inside, published on 127.0.0.1 only. */
  network: 'host' | 'bridge';
  /** Host port (host network: the server's port; bridge: the published port, 0 for any). */
  hostPort: number;
  settings: Record<string, string>;
  labels: Record<string, string>;
  name?: string;
  /** Host directory mounted as the data directory (bind-mount storage); the image's own data otherwise. */
  dataDirOnHost?: string;
}

/** What a server container runs on: an image (the base image, or a snapshot's) and, for host data, the directory mounted. */
export type ServerSource = Pick<ServerContainerSpec, 'image' | 'dataDirOnHost'>;

/** The create options of a container that runs `postgres` directly (never the image's entrypoint). */
export function serverContainerSpec(spec: ServerContainerSpec): Docker.ContainerCreateOptions {
  const port = spec.network === 'host' ? spec.hostPort : BRIDGE_PORT;
  const settings: Record<string, string> = {
    ...spec.settings,
    port: String(port),
    // Host network: loopback only. Bridge: the container's own interface, reachable only through the 127.0.0.1 publish below.
    listen_addresses: spec.network === 'host' ? '127.0.0.1' : '*',
    unix_socket_directories: '',
  };
  const cmd = [`${spec.bindir}/postgres`, '-D', CONTAINER_DATA_DIR];
  for (const [k, v] of Object.entries(settings)) cmd.push('-c', `${k}=${v}`);
  const options: Docker.ContainerCreateOptions = {
    Image: spec.image,
    name: spec.name,
    User: spec.user,
    Entrypoint: [],
    Cmd: cmd,
    Labels: spec.labels,
    StopSignal: 'SIGINT',
    HostConfig: {
      AutoRemove: false,
      NetworkMode: spec.network === 'host' ? 'host' : 'bridge',
      ...(spec.dataDirOnHost ? { Binds: [`${spec.dataDirOnHost}:${CONTAINER_DATA_DIR}`] } : {}),
    },
  };
  if (spec.network === 'bridge') {
    options.ExposedPorts = { [`${BRIDGE_PORT}/tcp`]: {} };
    options.HostConfig!.PortBindings = { [`${BRIDGE_PORT}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: spec.hostPort ? String(spec.hostPort) : '' }] };
  }
  return options;
}
