import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { copyTree } from '../../cloners/tree-copy.js';
import { removeDir } from '../../cloners/remove-dir.js';
import { initCluster } from './initdb.js';
import { startServer, type LocalServer } from './local-server.js';
import { DATABASE, SUPERUSER } from '../../snapshot/postgres-settings.js';
import type { LocalContext } from '../context.js';
import { CloneError, describeCause, hintFor } from '../../errors.js';
import { giveTo } from '../../system/run-as.js';
import { SeedProgress } from '../../snapshot/progress.js';
import type { BuildJob } from '../../snapshot/build-job.js';
import type { StoredSnapshot } from '../../snapshot/stored-snapshot.js';
import { buildFailure, storeSnapshot } from '../../cache/store-snapshot.js';
import { applyRecipe } from '../../snapshot/apply-recipe.js';

/**
 * Builds a snapshot in a private build directory and moves it into place only once it is
 * complete: checkpointed, cleanly shut down, synced, with its marker written last.
 * On failure nothing is left behind.
 */
export async function buildSnapshot(ctx: LocalContext, job: BuildJob, sourceDataDir?: string): Promise<StoredSnapshot> {
  const buildDir = ctx.layout.build(job.hash, ctx.session.id);
  const dataDir = path.join(buildDir, 'data');
  const progress = new SeedProgress(job.name);
  await removeDir(buildDir);
  try {
    await mkdir(buildDir, { recursive: true, mode: 0o755 });
    if (job.from) await cloneForSnapshot(ctx, sourceDataDir ?? path.join(ctx.layout.snapshot(job.from.hash), 'data'), dataDir);
    else {
      progress.step('initdb');
      await ctx.cloner.createSource(dataDir, ctx.runAs);
      await initCluster(ctx.binaries, dataDir, ctx.password, ctx.runAs);
    }
    if (job.files.length > 0 || job.init) await runRecipe(ctx, job, buildDir, dataDir, progress);
    const meta = await storeSnapshot(ctx.layout, job, buildDir, ctx.binaries.version);
    progress.done(job.hash);
    return meta;
  } catch (err) {
    progress.failed();
    await removeDir(buildDir).catch(() => undefined);
    throw buildFailure(job, err);
  }
}

/** Copies a data directory into a new snapshot source, as independent of the original as the cloner allows. */
export async function cloneForSnapshot(ctx: LocalContext, source: string, target: string): Promise<void> {
  try {
    if (ctx.cloner.standalone) await ctx.cloner.clone(source, target, ctx.runAs);
    else await copyTree(source, target, 'bytes', ctx.runAs);
  } catch (err) {
    throw new CloneError(`Could not copy ${source} to ${target} with the ${ctx.cloner.name} cloner: ${describeCause(err)}.${hintFor(err)}`, {
      cause: err,
    });
  }
}

async function runRecipe(ctx: LocalContext, job: BuildJob, buildDir: string, dataDir: string, progress: SeedProgress): Promise<void> {
  const socketDir = ctx.layout.socketDir(buildDir, ctx.session.id, job.hash.slice(0, 8));
  await mkdir(socketDir, { recursive: true, mode: 0o700 });
  await chmod(socketDir, 0o700);
  await giveTo(ctx.runAs, socketDir);
  let server: LocalServer | undefined;
  try {
    progress.step('starting server');
    server = await startServer(ctx.binaries, {
      dataDir,
      socketDir,
      logFile: path.join(buildDir, 'postgres.log'),
      settings: ctx.settings,
      runAs: ctx.runAs,
      label: `snapshot "${job.name}"`,
    });
    await applyRecipe(job, { host: socketDir, port: server.port, user: SUPERUSER, database: DATABASE }, { port: server.port, password: ctx.password }, progress);
    await server.stop('fast');
    server = undefined;
  } finally {
    await server?.stop('immediate').catch(() => undefined);
    await removeDir(socketDir);
  }
}
