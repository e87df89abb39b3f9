import { mkdir, rm, writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import path from 'node:path';
import { SnapshotDirs } from '../../cache/snapshot-dirs.js';
import { scramVerifier } from '../../cache/scram-verifier.js';
import { buildFailure, storeSnapshot } from '../../cache/store-snapshot.js';
import type { Cloner } from '../../cloners/cloner.js';
import { overlayLayers } from '../../cloners/overlay-cloner.js';
import { removeDir } from '../../cloners/remove-dir.js';
import { copyTree } from '../../cloners/tree-copy.js';
import { describeCause, hintFor, PgbranchError } from '../../errors.js';
import type { BuildJob } from '../../snapshot/build-job.js';
import { SeedProgress } from '../../snapshot/progress.js';
import type { StoredSnapshot } from '../../snapshot/stored-snapshot.js';
import { giveTo, type RunAs } from '../../system/run-as.js';
import type { ServerSource } from './container-spec.js';
import { runToCompletion } from './containers.js';
import type { BranchPlace, DockerStorage } from './docker-storage.js';
import { initdbContainer } from './initdb-container.js';
import { rekeyOnHost } from './rekey-container.js';
import type { ServerContainers } from './server-containers.js';
import { ownerIds } from './small-tar.js';

/**
 * Snapshots are data directories in the cache (SnapshotDirs, as with the local driver); a branch's data is a
 * host copy-on-write clone in its directory, bind-mounted into a container of the base image, which only
 * provides the binaries. Block-level reflink/btrfs sharing instead of whole-file copy-up in a container layer;
 * needs a local engine, and root to hand clones to the image's postgres user.
 */
export class BindClones implements DockerStorage {
  readonly kind = 'bind';
  readonly hostData = true;
  /** The image's postgres user on this host: clones are handed to it. */
  readonly owner: RunAs;
  private readonly dirs: SnapshotDirs;

  constructor(
    private readonly containers: ServerContainers,
    readonly cloner: Cloner,
  ) {
    this.dirs = new SnapshotDirs(containers.layout);
    const { image } = containers;
    const [uid, gid] = ownerIds(image.user);
    this.owner = { uid, gid, user: `${image.image} postgres`, dropped: process.getuid?.() === 0 };
  }

  find(hash: string): Promise<StoredSnapshot | undefined> {
    return this.dirs.find(hash);
  }
  list(): Promise<StoredSnapshot[]> {
    return this.dirs.list();
  }
  name(snapshot: StoredSnapshot, name: string): Promise<void> {
    return this.dirs.name(snapshot, name);
  }
  remove(snapshot: StoredSnapshot): Promise<void> {
    return this.dirs.remove(snapshot);
  }
  removeSync(snapshot: StoredSnapshot): void {
    this.dirs.removeSync(snapshot);
  }

  async build(job: BuildJob): Promise<StoredSnapshot> {
    const progress = new SeedProgress(job.name);
    try {
      const from = job.from;
      const meta = await this.inBuildDir(job, (dataDir) => (from ? this.seed(job, from, dataDir, progress) : this.initdb(dataDir, progress)));
      progress.done(job.hash);
      return meta;
    } catch (err) {
      progress.failed();
      throw buildFailure(job, err);
    }
  }

  async exportData(snapshot: StoredSnapshot): Promise<Readable> {
    return this.dirs.exportData(snapshot);
  }
  /** Extracted on this host for the image's postgres user, and given the password in a container with it mounted. */
  importData(meta: StoredSnapshot, data: Readable, verified: Promise<void>): Promise<StoredSnapshot> {
    return this.dirs.importData(meta, data, verified, {
      session: this.containers.sessionId,
      cloner: this.cloner,
      owner: this.owner,
      rekey: (dataDir) => rekeyOnHost(this.containers, dataDir, this.owner),
    });
  }

  async makeData(parent: StoredSnapshot, dir: string): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o755 });
    await this.cloneInto(this.dirs.dataDir(parent), path.join(dir, 'data'), false);
  }

  async discardData(dir: string): Promise<void> {
    const dataDir = path.join(dir, 'data');
    await removeDir(dataDir);
    await removeDir(path.dirname(overlayLayers(dataDir).upper));
  }

  mount(_parent: StoredSnapshot, dir: string): ServerSource {
    return this.mountData(path.join(dir, 'data'));
  }
  private mountData(dataDir: string): ServerSource {
    return { image: this.containers.image.image, dataDirOnHost: dataDir };
  }

  /** A standalone copy of the branch's data directory becomes the snapshot (the branch may go first). */
  freeze(job: Omit<BuildJob, 'files'>, branch: BranchPlace): Promise<StoredSnapshot> {
    if (!branch.dir) throw new PgbranchError('PGBRANCH_DOCKER_NO_BRANCH_DIR', `Snapshot "${job.name}": the branch has no directory to copy.`);
    const source = path.join(branch.dir, 'data');
    return this.inBuildDir(job, (dataDir) => this.cloneInto(source, dataDir, true));
  }

  /** Fills `<build dir>/data` and stores it as the snapshot; the build directory is removed on failure. */
  private async inBuildDir(job: Omit<BuildJob, 'files'> & { files?: BuildJob['files'] }, fill: (dataDir: string) => Promise<void>): Promise<StoredSnapshot> {
    const buildDir = this.containers.layout.build(job.hash, this.containers.sessionId);
    await removeDir(buildDir);
    try {
      await mkdir(buildDir, { recursive: true, mode: 0o755 });
      await fill(path.join(buildDir, 'data'));
      return await storeSnapshot(this.containers.layout, { ...job, files: job.files ?? [] }, buildDir, this.containers.image.version);
    } catch (err) {
      await removeDir(buildDir).catch(() => undefined);
      throw err;
    }
  }

  /** initdb into a fresh source directory, with the password file beside it for the time it runs. */
  private async initdb(dataDir: string, progress: SeedProgress): Promise<void> {
    progress.step('initdb');
    await this.cloner.createSource(dataDir, this.owner);
    const passwordFile = path.join(path.dirname(dataDir), '.pw');
    await writeFile(passwordFile, scramVerifier(this.containers.password) + '\n', { mode: 0o600 });
    await giveTo(this.owner, passwordFile);
    const container = await initdbContainer(this.containers, { dataDir, passwordFile });
    try {
      await runToCompletion(container, `initdb in image ${this.containers.image.image}`);
    } finally {
      await container.remove({ force: true }).catch(() => undefined);
      await rm(passwordFile, { force: true });
    }
  }

  /** A standalone copy of the parent's data, seeded by the recipe in a container of the base image. */
  private async seed(job: BuildJob, from: StoredSnapshot, dataDir: string, progress: SeedProgress): Promise<void> {
    await this.cloneInto(this.dirs.dataDir(from), dataDir, true);
    const hostPort = await this.containers.portRequest();
    const container = await this.containers.create(this.mountData(dataDir), from.hash, hostPort, 'build');
    try {
      await this.containers.seed(container, hostPort, job, progress);
    } finally {
      await container.remove({ force: true }).catch(() => undefined);
    }
  }

  /** A clone owned by the image's postgres user; `standalone` when it must outlive its source. */
  private async cloneInto(source: string, target: string, standalone: boolean): Promise<void> {
    try {
      if (standalone && !this.cloner.standalone) await copyTree(source, target, 'bytes', this.owner);
      else await this.cloner.clone(source, target, this.owner);
    } catch (err) {
      throw new PgbranchError('PGBRANCH_CLONE_FAILED', `Could not clone ${source} with the ${this.cloner.name} cloner: ${describeCause(err)}.${hintFor(err)}`, { cause: err });
    }
  }
}
