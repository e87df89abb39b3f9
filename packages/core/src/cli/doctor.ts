import { constants, existsSync } from 'node:fs';
import { access, statfs } from 'node:fs/promises';
import path from 'node:path';
import net from 'node:net';
import { probeCloners } from '../cloners/select-cloner.js';
import { findBinaries } from '../drivers/local/binaries.js';
import { BinariesNotFoundError, describeCause, hintFor } from '../errors.js';
import { resolveOptions } from '../options.js';
import { describeServerAccount } from '../system/server-account.js';
import { assertDockerReachable, dockerClientIfInstalled } from '../drivers/docker/docker-client.js';

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
    checks.push({ name: 'server user', ok: true, detail: await describeServerAccount(resolved.cacheDir, resolved.user) });
  } catch (err) {
    checks.push({ name: 'server user', ok: false, detail: describeCause(err) });
  }
  const cache = await cacheDirCheck(resolved.cacheDir);
  checks.push(cache);
  // The probes make scratch clones inside the cache directory: only where it can be written.
  const probes = cache.ok ? await probeCloners(resolved.cacheDir) : [];
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
  return canRun && server.ok && cache.ok ? 0 : 1;
}

/** The cache directory must be writable (or creatable) for snapshots and branches; `ls` and `url` only read it. */
async function cacheDirCheck(dir: string): Promise<Check> {
  const existing = await nearestExisting(dir);
  try {
    await access(existing, constants.W_OK);
  } catch (err) {
    const readOnly = (err as NodeJS.ErrnoException).code === 'EROFS' ? 'is on a read-only filesystem' : 'is not writable';
    return {
      name: 'cache directory',
      ok: false,
      detail: `${existing} ${readOnly} (${describeCause(err)}): snapshots and branches cannot be made; \`pgbranch ls\` and \`pgbranch url\` still work. Point PGBRANCH_CACHE_DIR (or --cache-dir) at a writable directory.`,
    };
  }
  const free = await statfs(existing).then((s) => s.bavail * s.bsize, () => undefined);
  if (free !== undefined && free < 64 * 1024 * 1024) {
    return { name: 'cache directory', ok: false, detail: `${dir}: only ${(free / 1e6).toFixed(1)} MB free.${hintFor({ code: 'ENOSPC' })}` };
  }
  return { name: 'cache directory', ok: true, detail: `${dir} is writable${free !== undefined ? `, ${(free / 1e9).toFixed(1)} GB free` : ''}` };
}

async function nearestExisting(dir: string): Promise<string> {
  for (let current = dir; ; current = path.dirname(current)) {
    if (existsSync(current) || current === path.dirname(current)) return current;
  }
}

/** Whether a Docker engine answers (for the docker driver, and for 'auto' without local binaries). */
async function dockerCheck(needed: boolean): Promise<Check> {
  const forWhat = needed ? 'needed: there are no local Postgres binaries' : "only needed for driver: 'docker'";
  const host = process.env.DOCKER_HOST;
  const socket = host?.startsWith('unix://') ? host.slice(7) : host ? undefined : '/var/run/docker.sock';
  if (!socket) return remoteDockerCheck(host!, forWhat);
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

/** An engine on another machine (tcp://, ssh://): asked through dockerode, as the driver would reach it. */
async function remoteDockerCheck(host: string, forWhat: string): Promise<Check> {
  try {
    const docker = await dockerClientIfInstalled();
    if (!docker) return { name: 'docker', ok: false, detail: `DOCKER_HOST=${host}, but dockerode is not installed (npm install -D dockerode; ${forWhat})` };
    await assertDockerReachable(docker);
    return { name: 'docker', ok: true, detail: `engine answers at ${host}` };
  } catch (err) {
    return { name: 'docker', ok: false, detail: `nothing answers at DOCKER_HOST=${host}: ${describeCause(err)} (${forWhat})` };
  }
}
