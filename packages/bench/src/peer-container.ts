import type { StartedTestContainer } from 'testcontainers';
import { defaultSettings } from '@pgbranch/core/runner';
import { freePort } from './scenarios/peers/support.js';

/**
 * The Testcontainers peer, set up one way for every benchmark that uses it (the peers scenario and the end-to-end
 * suite): a GenericContainer of `image` on the host network, running initdb and postgres with pgbranch's server
 * settings, ready when postgres logs it. Containers carry the label `pgbranch.bench=<tag>` for cleanup.
 */
export async function startPeerContainer(image: string, tag: string): Promise<{ container: StartedTestContainer; port: number }> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const major = Number(/:(\d+)(?:$|[.-])/.exec(image)?.[1] ?? 0);
  const settings = Object.entries(defaultSettings(major)).map(([k, v]) => `-c ${k}=${v}`).join(' ');
  const port = await freePort();
  const container = await new GenericContainer(image)
    .withNetworkMode('host')
    .withUser('postgres')
    .withLabels({ 'pgbranch.bench': tag })
    .withCommand([
      'sh',
      '-c',
      `initdb -D /tmp/d -U postgres --auth=trust --encoding=UTF8 --locale=C --wal-segsize=1 >/dev/null && ` +
        `exec postgres -D /tmp/d -p ${port} -c listen_addresses=127.0.0.1 ${settings}`,
    ])
    .withWaitStrategy(Wait.forLogMessage(/ready to accept connections/))
    .withStartupTimeout(120_000)
    .start();
  return { container, port };
}
