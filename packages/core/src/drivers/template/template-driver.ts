import type { Readable } from 'node:stream';
import { SnapshotDirs } from '../../cache/snapshot-dirs.js';
import { PgbranchError } from '../../errors.js';
import { logger } from '../../log.js';
import type { BuildJob } from '../../snapshot/build-job.js';
import type { StoredSnapshot } from '../../snapshot/stored-snapshot.js';
import type { LocalContext } from '../context.js';
import type { BranchRuntime, Driver, DriverInfo } from '../driver.js';
import type { NamedRuntime } from '../named-runtime.js';
import { reapDeadOwners, type ReapReport } from '../reaper.js';
import { buildSnapshot } from '../local/local-builder.js';
import { LocalNamedRuntime } from '../local/named-runtime.js';
import { importLocal } from '../local/local-driver.js';
import type { CopyStrategy } from './copy-strategy.js';
import { TemplateBranch, templateDatabaseName, type HostedSnapshot } from './template-branch.js';
import { TemplateHost } from './template-host.js';
import { SpareDatabases } from './spare-databases.js';

/** Copies of each template database kept ahead of demand (see SpareDatabases). */
const SPARES_PER_TEMPLATE = 2;
import { TemplateNamedRuntime } from './template-named-runtime.js';

const log = logger('template');

/**
 * Branches as databases created from a template database, in one server per snapshot (a template host) that
 * this engine starts on the first branch of the snapshot and stops when it closes. Snapshots are the data
 * directories the local driver stores (same builder, same identity): both drivers share one cache directory's
 * seeded snapshots. Snapshots of branches are template databases in the host, known to this driver only.
 */
export class TemplateDriver implements Driver {
  readonly name = 'template';
  private readonly store: SnapshotDirs;
  /** Template hosts by snapshot hash; concurrent first branches share one start. */
  private readonly hosts = new Map<string, Promise<TemplateHost>>();
  private readonly started = new Set<TemplateHost>();
  /** Snapshots of branches, as template databases in a host. */
  private readonly hosted = new Map<string, HostedSnapshot>();
  /** Copies made ahead, per host and template database. */
  private readonly spares = new Map<TemplateHost, Map<string, SpareDatabases>>();
  private closed = false;

  constructor(
    private readonly ctx: LocalContext,
    readonly info: DriverInfo,
    private readonly strategy: CopyStrategy,
  ) {
    this.store = new SnapshotDirs(ctx.layout);
  }

  get postgresIdentity(): string {
    return this.ctx.binaries.identity;
  }
  get postgresMajor(): number {
    return this.ctx.binaries.major;
  }
  get settings(): Record<string, string> {
    return this.ctx.settings;
  }

  async findSnapshot(hash: string): Promise<StoredSnapshot | undefined> {
    return this.hosted.get(hash)?.meta ?? (await this.store.find(hash));
  }
  async listSnapshots(): Promise<StoredSnapshot[]> {
    return [...(await this.store.list()), ...[...this.hosted.values()].map((s) => s.meta)];
  }
  async nameSnapshot(snapshot: StoredSnapshot, name: string): Promise<void> {
    if (!this.hosted.has(snapshot.hash)) await this.store.name(snapshot, name);
  }
  buildSnapshot(job: BuildJob): Promise<StoredSnapshot> {
    if (job.from && this.hosted.has(job.from.hash)) {
      throw new PgbranchError(
        'PGBRANCH_TEMPLATE_UNSUPPORTED',
        `Snapshot "${job.name}": its parent "${job.from.name}" is a snapshot of a branch, which the template driver keeps as a database of its server, not as a data directory to seed from. Branch it instead, or use driver 'local' to build recipes on snapshots of branches.`,
      );
    }
    return buildSnapshot(this.ctx, job);
  }

  /** Stored snapshots are the local driver's data directories; snapshots of branches live in a server and cannot travel. */
  async exportData(snapshot: StoredSnapshot): Promise<Readable> {
    if (this.hosted.has(snapshot.hash)) {
      throw new PgbranchError(
        'PGBRANCH_TEMPLATE_UNSUPPORTED',
        `Snapshot "${snapshot.name}" is a snapshot of a branch, kept as a database of a template server, not as a data directory to export. Use driver 'local' to export snapshots of branches.`,
      );
    }
    return this.store.exportData(snapshot);
  }
  importData(meta: StoredSnapshot, data: Readable, verified: Promise<void>): Promise<StoredSnapshot> {
    return importLocal(this.ctx, this.store, meta, data, verified);
  }

  async removeSnapshot(snapshot: StoredSnapshot): Promise<void> {
    const hosted = this.hosted.get(snapshot.hash);
    if (!hosted) return this.store.remove(snapshot);
    this.hosted.delete(snapshot.hash);
    this.spares.get(hosted.host)?.get(hosted.database)?.stop(true);
    this.spares.get(hosted.host)?.delete(hosted.database);
    if (hosted.host.alive) await hosted.host.dropDatabase(hosted.database);
  }
  removeSnapshotSync(snapshot: StoredSnapshot): void {
    // A hosted snapshot goes with its server (closeSync); a stored one is a directory.
    if (!this.hosted.delete(snapshot.hash)) this.store.removeSync(snapshot);
  }

  async startBranch(snapshot: StoredSnapshot, branch: { id: string; name: string }): Promise<BranchRuntime> {
    const hosted = this.hosted.get(snapshot.hash);
    if (!hosted && snapshot.kind === 'branch') {
      // A snapshot of a branch lives only in the template server it was taken in; that server stopped (or crashed).
      throw new PgbranchError(
        'PGBRANCH_TEMPLATE_SERVER_DOWN',
        `Snapshot "${snapshot.name}" was a database of a template server that has stopped, and went with it; take the snapshot again from a branch.`,
      );
    }
    const host = hosted?.host ?? (await this.host(snapshot));
    const template = hosted?.database ?? templateDatabaseName(snapshot.hash);
    return TemplateBranch.start({
      host,
      template,
      spares: this.sparesOf(host, template),
      parentHash: snapshot.hash,
      database: `branch_${branch.id}`,
      password: this.ctx.password,
      postgresVersion: this.ctx.binaries.version,
      keepSnapshot: (s) => this.hosted.set(s.meta.hash, s),
    });
  }

  /**
   * Named branches outlive the engine, and its template hosts die with it: a named branch therefore runs as
   * the local driver runs it, a server of its own on a clone of the snapshot's data directory.
   */
  named(dirOf: (name: string) => string): NamedRuntime {
    return new TemplateNamedRuntime(new LocalNamedRuntime(this.ctx, dirOf), (hash) => this.hosted.has(hash));
  }

  /** Template hosts are filed like branches under their engine's session: the common reaper removes them. */
  reap(): Promise<ReapReport> {
    return reapDeadOwners(this.ctx.layout);
  }

  async close(): Promise<void> {
    this.closed = true;
    const hosts = await Promise.allSettled([...this.hosts.values()]);
    this.hosts.clear();
    this.hosted.clear();
    for (const result of hosts) if (result.status === 'fulfilled') await this.stopHost(result.value);
  }

  closeSync(): void {
    this.closed = true;
    for (const host of this.started) host.stopSync();
    this.started.clear();
  }

  /** The snapshot's running host; started on first use, and again after it died (one restart, however many ask). */
  private async host(snapshot: StoredSnapshot): Promise<TemplateHost> {
    const entry = this.hosts.get(snapshot.hash) ?? this.track(snapshot, this.startHost(snapshot));
    const host = await entry;
    if (host.alive) return host;
    if (this.hosts.get(snapshot.hash) === entry) {
      log('template server of %s died; starting a new one', snapshot.name);
      this.track(snapshot, this.stopHost(host).catch(() => undefined).then(() => this.startHost(snapshot)));
    }
    return this.host(snapshot);
  }

  private track(snapshot: StoredSnapshot, starting: Promise<TemplateHost>): Promise<TemplateHost> {
    this.hosts.set(snapshot.hash, starting);
    starting.catch(() => {
      if (this.hosts.get(snapshot.hash) === starting) this.hosts.delete(snapshot.hash);
    });
    return starting;
  }

  private async startHost(snapshot: StoredSnapshot): Promise<TemplateHost> {
    if (this.closed) throw new PgbranchError('PGBRANCH_TEMPLATE_SERVER_DOWN', `Snapshot "${snapshot.name}": this engine is closing; create a new engine to branch it.`);
    const key = `tpl-${snapshot.hash.slice(0, 12)}`;
    const host = await TemplateHost.start(this.ctx, {
      snapshotDataDir: this.store.dataDir(snapshot),
      dir: this.ctx.layout.branch(this.ctx.session.id, key),
      key,
      label: `snapshot "${snapshot.name}"`,
      templateDb: templateDatabaseName(snapshot.hash),
      strategy: this.strategy,
    });
    this.started.add(host);
    return host;
  }

  private sparesOf(host: TemplateHost, template: string): SpareDatabases {
    const ofHost = this.spares.get(host) ?? new Map<string, SpareDatabases>();
    this.spares.set(host, ofHost);
    let spares = ofHost.get(template);
    if (!spares) ofHost.set(template, (spares = new SpareDatabases(host, template, SPARES_PER_TEMPLATE)));
    return spares;
  }

  private async stopHost(host: TemplateHost): Promise<void> {
    this.started.delete(host);
    for (const spares of this.spares.get(host)?.values() ?? []) spares.stop(false);
    this.spares.delete(host);
    for (const [hash, s] of this.hosted) if (s.host === host) this.hosted.delete(hash);
    await host.stop();
  }
}
