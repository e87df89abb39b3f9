import { existsSync } from 'node:fs';
import net from 'node:net';
import { probeCloners } from '../cloners/select-cloner.js';
import { findBinaries } from '../drivers/local/binaries.js';
import { BinariesNotFoundError, describeCause } from '../errors.js';
import { resolveOptions } from '../options.js';
import { resolveRunAs } from '../system/run-as.js';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** `pgbranch doctor`: what the engine would pick on this machine and what is missing, with next steps. */
export async function runDoctor(options: { cacheDir?: string; json: boolean }): Promise<number> {
  const resolved = resolveOptions({ cacheDir: options.cacheDir });
  const checks: Check[] = [];
  let noLocalBinaries = false;
  try {
    const bins = await findBinaries({ binDir: resolved.binDir, cacheDir: resolved.cacheDir });
    const links = bins.libraryDir ? `; library links made in ${bins.libraryDir} (the package's install script did not run)` : '';
    checks.push({ name: 'postgres', ok: true, detail: `PostgreSQL ${bins.version} from ${bins.source}: ${bins.binDir}${links}` });
  } catch (err) {
    // Not installed at all: driver 'auto' uses Docker, so Docker decides. Installed but unusable: the fix is in the message.
    noLocalBinaries = err instanceof BinariesNotFoundError;
    const detail = noLocalBinaries ? `${describeCause(err)} Driver 'auto' uses Docker instead (see the docker check).` : describeCause(err);
    checks.push({ name: 'postgres', ok: false, detail });
  }
  try {
    const runAs = resolveRunAs(resolved.user);
    checks.push({ name: 'server user', ok: true, detail: runAs.dropped ? `${runAs.user} (uid ${runAs.uid}); this process is root` : runAs.user });
  } catch (err) {
    checks.push({ name: 'server user', ok: false, detail: describeCause(err) });
  }
  const probes = await probeCloners(resolved.cacheDir);
  const chosen = resolved.cloner === 'auto' ? probes.find((p) => p.ok)?.name : resolved.cloner;
  for (const p of probes) {
    checks.push({ name: `cloner ${p.name}${p.name === chosen ? ' (chosen)' : ''}`, ok: p.ok, detail: p.reason });
  }
  const docker = await dockerCheck(noLocalBinaries);
  checks.push(docker);

  if (options.json) {
    process.stdout.write(JSON.stringify({ cacheDir: resolved.cacheDir, cloner: chosen, checks }, null, 2) + '\n');
  } else {
    process.stdout.write(`pgbranch doctor\n  cache dir: ${resolved.cacheDir}\n`);
    for (const c of checks) process.stdout.write(`  ${c.ok ? 'ok  ' : 'no  '} ${c.name}: ${c.detail}\n`);
  }
  const postgres = checks.find((c) => c.name === 'postgres')!;
  const server = checks.find((c) => c.name === 'server user')!;
  const canRun = postgres.ok || (noLocalBinaries && docker.ok);
  return canRun && server.ok ? 0 : 1;
}

/** Whether a Docker engine answers (for the docker driver, and for 'auto' without local binaries). */
async function dockerCheck(needed: boolean): Promise<Check> {
  const forWhat = needed ? 'needed: there are no local Postgres binaries' : "only needed for driver: 'docker'";
  const host = process.env.DOCKER_HOST;
  const socket = host?.startsWith('unix://') ? host.slice(7) : host ? undefined : '/var/run/docker.sock';
  if (!socket) return { name: 'docker', ok: true, detail: `DOCKER_HOST=${host} (not probed)` };
  if (!existsSync(socket)) {
    return { name: 'docker', ok: false, detail: `no engine socket at ${socket}: start dockerd (${forWhat})` };
  }
  const answered = await new Promise<boolean>((resolve) => {
    const conn = net.connect(socket, () => {
      conn.end();
      resolve(true);
    });
    conn.once('error', () => resolve(false));
    conn.setTimeout(1000, () => {
      conn.destroy();
      resolve(false);
    });
  });
  return answered
    ? { name: 'docker', ok: true, detail: `engine answers at ${socket}` }
    : { name: 'docker', ok: false, detail: `${socket} exists but nothing answers: start dockerd (${forWhat})` };
}
