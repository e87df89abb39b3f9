import type { DriverRegistration } from '../driver.js';
import { setupLocalServers } from '../local/local-setup.js';
import { copyStrategy } from './copy-strategy.js';
import { TemplateDriver } from './template-driver.js';

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
    const strategy = copyStrategy(ctx.binaries.major, ctx.cloner.name);
    return new TemplateDriver(ctx, {
      ...info,
      storage: 'template-database',
      storageReason: `${strategy.reason}; each template server runs on ${ctx.cloner.standalone ? `a ${ctx.cloner.name} clone` : 'a copy'} of its snapshot (${info.storageReason})`,
    }, strategy);
  },
};
