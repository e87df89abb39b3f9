import type { DriverRegistration } from '../driver.js';
import { LocalDriver } from './local-driver.js';
import { setupLocalServers } from './local-setup.js';

/** Postgres server processes on this host, each branch on a copy-on-write clone of its snapshot's data directory. */
export const localRegistration: DriverRegistration = {
  name: 'local',
  summary: 'a server process per branch on a copy-on-write clone (no Docker needed)',
  auto: true,
  async create(request) {
    const { ctx, info } = await setupLocalServers(request);
    return new LocalDriver(ctx, info);
  },
};
