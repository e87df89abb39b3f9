import type { DriverRegistration } from '../driver.js';
import { setupLocalServers } from '../local/local-setup.js';
import { copyStrategy } from './copy-strategy.js';
import { TemplateDriver } from './template-driver.js';
import { UsageError } from '../../errors.js';

const MIN_MAJOR = 14;

/**
 * Branches as databases copied from a template database, in one server per snapshot started from the local
 * binaries (the model of IntegreSQL and pgtestdb). Never picked by 'auto': its branches share a server.
 */
export const templateRegistration: DriverRegistration = {
  name: 'template',
  summary: 'a database per branch, created from a template database in one server per snapshot (local binaries)',
  auto: false,
  async create(request) {
    const { ctx, info } = await setupLocalServers(request);
    if (ctx.binaries.major < MIN_MAJOR) {
      // pg_terminate_backend(pid, timeout) (14) ends a database's sessions before it is copied or dropped.
      throw new UsageError(`The template driver needs PostgreSQL ${MIN_MAJOR} or later; the binaries in ${ctx.binaries.binDir} are ${ctx.binaries.version}. Use driver 'local', or newer binaries (postgres.binDir).`);
    }
    const strategy = copyStrategy(ctx.binaries.major, ctx.cloner.name);
    return new TemplateDriver(ctx, {
      ...info,
      storage: 'template-database',
      storageReason: `${strategy.reason}; each template server runs on ${ctx.cloner.standalone ? `a ${ctx.cloner.name} clone` : 'a copy'} of its snapshot (${info.storageReason})`,
    }, strategy);
  },
};
