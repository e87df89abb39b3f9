import type Docker from 'dockerode';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Cloner } from '../../cloners/cloner.js';
import { removeDir } from '../../cloners/remove-dir.js';
import { copyTree } from '../../cloners/tree-copy.js';
import type { DriverContext } from '../context.js';
import type { DriverInfo } from '../driver.js';
import { SnapshotDirs } from '../../cache/snapshot-dirs.js';
import { reapDeadOwners, type ReapReport } from '../reaper.js';
import { describeCause, hintFor, PgbranchError } from '../../errors.js';
import { SeedProgress } from '../../snapshot/progress.js';
import type { SnapshotMeta } from '../../snapshot/snapshot-meta.js';
import { buildFailure, storeSnapshot } from '../../cache/store-snapshot.js';
import { giveTo, type RunAs } from '../../system/run-as.js';
import type { BuildJob } from '../../snapshot/build-job.js';
import type { BranchRuntime } from '../driver.js';
import { freePort } from '../local/ports.js';
import { runToCompletion } from './containers.js';
import { DockerBindBranch } from './docker-bind-branch.js';
import { DockerDriver, type DockerDriverOptions } from './docker-driver.js';
import { reapDockerOrphans } from './docker-reaper.js';
import type { ImageInfo } from './image-probe.js';

/**
 * Containers whose data directory is a host copy-on-write clone, bind-mounted: snapshots and branches
 * live in the cache directory as with the local driver (block-level reflink/btrfs sharing instead
 * of whole-file copy-up in the container layer), and the image only provides the binaries.
 */
export class DockerBindDriver extends DockerDriver {
  /** The image's postgres user on this host: clones are handed to it. */
  readonly owner: RunAs;

  private readonly store: SnapshotDirs;

  constructor(ctx: DriverContext, docker: Docker, image: ImageInfo, options: DockerDriverOptions, info: DriverInfo, readonly cloner: Cloner) {
    super(ctx, docker, image, options, info);
    this.store = new SnapshotDirs(ctx.layout);
    const [uid, gid] = image.user.split(':').map(Number) as [number, number];
    this.owner = { uid, gid, user: `${image.image} postgres`, dropped: process.getuid?.() === 0 };
  }

  override findSnapshot(hash: string): Promise<SnapshotMeta | undefined> {
    return this.store.find(hash);
  }
  override listSnapshots(): Promise<SnapshotMeta[]> {
    return this.store.list();
  }
  override nameSnapshot(snapshot: SnapshotMeta, name: string): Promise<void> {
    return this.store.name(snapshot, name);
  }

  override async buildSnapshot(job: BuildJob): Promise<SnapshotMeta> {
    const progress = new SeedProgress(job.name);
    const buildDir = this.ctx.layout.build(job.hash, this.ctx.session.id);
    const dataDir = path.join(buildDir, 'data');
    let container: Docker.Container | undefined;
    await removeDir(buildDir);
    try {
      await mkdir(buildDir, { recursive: true, mode: 0o755 });
      if (!job.from) {
        progress.step('initdb');
        await this.cloner.createSource(dataDir, this.owner);
        const passwordFile = path.join(buildDir, '.pw');
        await writeFile(passwordFile, this.ctx.password + '\n', { mode: 0o600 });
        await giveTo(this.owner, passwordFile);
        container = await this.initdbContainer({ dataDir, passwordFile });
        await runToCompletion(container, `initdb in image ${this.image.image}`);
        await rm(passwordFile, { force: true });
      } else {
        await this.cloneInto(this.dataDirOf(job.from), dataDir, true);
        const hostPort = this.options.network === 'host' ? await freePort() : 0;
        container = await this.serverContainer(job.from.hash, hostPort, 'build', dataDir);
        await this.runRecipe(container, hostPort, job, progress);
      }
      const meta = await storeSnapshot(this.ctx.layout, job, buildDir, this.image.version);
      progress.done(job.hash);
      return meta;
    } catch (err) {
      progress.failed();
      await removeDir(buildDir).catch(() => undefined);
      throw buildFailure(job, err);
    } finally {
      await container?.remove({ force: true }).catch(() => undefined);
    }
  }

  /** Stores a branch's cleanly stopped data directory as a new snapshot. */
  async snapshotFrom(job: Omit<BuildJob, 'files'>, sourceDataDir: string): Promise<SnapshotMeta> {
    const buildDir = this.ctx.layout.build(job.hash, this.ctx.session.id);
    await removeDir(buildDir);
    try {
      await mkdir(buildDir, { recursive: true, mode: 0o755 });
      await this.cloneInto(sourceDataDir, path.join(buildDir, 'data'), true);
      return await storeSnapshot(this.ctx.layout, { ...job, files: [] }, buildDir, this.image.version);
    } catch (err) {
      await removeDir(buildDir).catch(() => undefined);
      throw err;
    }
  }

  override startBranch(snapshot: SnapshotMeta, branch: { id: string; name: string }): Promise<BranchRuntime> {
    return DockerBindBranch.start(this, snapshot, branch.id, branch.name);
  }

  override removeSnapshot(snapshot: SnapshotMeta): Promise<void> {
    return this.store.remove(snapshot);
  }

  override removeSnapshotSync(snapshot: SnapshotMeta): void {
    this.store.removeSync(snapshot);
  }

  /** Containers first (they hold the clones), then the directories and owner records. */
  override async reap(): Promise<ReapReport> {
    const containers = await reapDockerOrphans(this.docker, this.ctx.layout);
    const local = await reapDeadOwners(this.ctx.layout);
    return { sessions: local.sessions, servers: containers.servers + local.servers, directories: [...containers.directories, ...local.directories] };
  }

  dataDirOf(snapshot: SnapshotMeta): string {
    return this.store.dataDir(snapshot);
  }
  branchDir(id: string): string {
    return this.ctx.layout.branch(this.ctx.session.id, id);
  }

  /** A clone owned by the image's postgres user; `standalone` when it must outlive its source. */
  async cloneInto(source: string, target: string, standalone: boolean): Promise<void> {
    try {
      if (standalone && !this.cloner.standalone) await copyTree(source, target, 'bytes', this.owner);
      else await this.cloner.clone(source, target, this.owner);
    } catch (err) {
      throw new PgbranchError('PGBRANCH_CLONE_FAILED', `Could not clone ${source} with the ${this.cloner.name} cloner: ${describeCause(err)}.${hintFor(err)}`, { cause: err });
    }
  }
}
