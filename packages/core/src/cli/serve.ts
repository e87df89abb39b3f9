import { Keeper } from '../keeper/keeper.js';
import { parseDuration } from '../cache/named-record.js';
import { withNamed, type CliContext } from './branches.js';

export interface ServeArgs {
  idleAfter?: string;
  suspendAfter?: string;
  interval?: string;
}

/**
 * `pgbranch serve`: the keeper in the foreground until SIGINT/SIGTERM. Suspends idle branches, removes expired
 * ones, wakes suspended ones when a client connects. Prints one line per action.
 */
export async function runServe(cli: CliContext, args: ServeArgs): Promise<number> {
  const idleAfterMs = parseDuration(args.idleAfter ?? '5m', '--idle-after');
  const suspendAfterMs = parseDuration(args.suspendAfter ?? '15m', '--suspend-after');
  const intervalMs = parseDuration(args.interval ?? '1s', '--interval');
  return withNamed(cli, async (_named, engine) => {
    const keeper = new Keeper(engine, {
      idleAfterMs,
      suspendAfterMs,
      intervalMs,
      onEvent: (e) => cli.out(cli.json ? JSON.stringify({ at: new Date().toISOString(), ...e }) : `${new Date().toISOString()} ${e.branch}: ${e.action}${e.detail ? ` (${e.detail})` : ''}`),
    });
    const stopped = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await keeper.start();
    if (!cli.json) cli.out(`pgbranch serve: looking after ${engine.info().cacheDir} (idle after ${args.idleAfter ?? '5m'}, suspend after ${args.suspendAfter ?? '15m'}); Ctrl-C stops`);
    await stopped;
    await keeper.close();
    return 0;
  });
}
