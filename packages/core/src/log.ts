import createDebug from 'debug';

/** Debug loggers under `pgbranch:*` (enable with DEBUG=pgbranch:*). Never given credentials. */
export function logger(area: string): createDebug.Debugger {
  return createDebug(`pgbranch:${area}`);
}
