import { randomBytes } from 'node:crypto';
import { SUPERUSER } from '../../snapshot/postgres-settings.js';
import type { BuildJob } from '../../snapshot/build-job.js';
import { metaFor, type StoredSnapshot } from '../../snapshot/stored-snapshot.js';
import type { BranchAddress, BranchDetails, BranchRuntime } from '../driver.js';
import type { SpareDatabases } from './spare-databases.js';
import type { TemplateHost } from './template-host.js';

/** A snapshot kept as a template database in a running template server (a snapshot of a branch). */
export interface HostedSnapshot {
  meta: StoredSnapshot;
  host: TemplateHost;
  database: string;
}

/** What a template branch asks of its driver. */
export interface TemplateBranchParts {
  host: TemplateHost;
  /** The template database the branch is created from (and reset to), and its snapshot's hash. */
  template: string;
  parentHash: string;
  /** The branch's own database. */
  database: string;
  /** Copies of `template` made ahead. */
  spares: SpareDatabases;
  password: string;
  postgresVersion: string;
  /** Files a snapshot of this branch (template database `database`) with the driver. */
  keepSnapshot(snapshot: HostedSnapshot): void;
}

/**
 * A branch as a database of the snapshot's template server: a spare copy of the template renamed, or
 * `CREATE DATABASE … TEMPLATE` when none is ready. Reset puts a fresh copy under the same name (same URL); suspend
 * refuses connections to it, which Postgres reports as "database … is not currently accepting connections".
 */
export class TemplateBranch implements BranchRuntime {
  private suspended = false;

  private constructor(private readonly parts: TemplateBranchParts) {}

  static async start(parts: TemplateBranchParts): Promise<TemplateBranch> {
    const branch = new TemplateBranch(parts);
    await branch.createDatabase();
    return branch;
  }

  address(): BranchAddress {
    const { host, database, password } = this.parts;
    return { host: '127.0.0.1', port: host.port, database, user: SUPERUSER, password, socketDir: host.socketDir };
  }
  details(): BranchDetails {
    return { dir: this.parts.host.dir, pid: this.parts.host.pid, sharedServer: true };
  }
  /** False after suspend(), and when the template server died. */
  get running(): boolean {
    return !this.suspended && this.parts.host.alive;
  }

  /**
   * Moves the database aside (its sessions ended), creates it again from the template under the same name, and
   * drops the old one in the background: the caller waits for the copy, not for the old files' removal.
   */
  async reset(): Promise<void> {
    const { host, database } = this.parts;
    const suffix = randomBytes(4).toString('hex');
    // The fresh copy is made first, under a name of its own: a failed copy (disk full, a crash) leaves the branch as it was.
    const fresh = `${database}_next_${suffix}`;
    await this.copyInto(fresh);
    const discarded = `${database}_reset_${suffix}`;
    try {
      await host.allowConnections(database, false);
      await host.renameDatabase(database, discarded);
    } catch (err) {
      host.dropLater(fresh);
      throw err;
    }
    await host.renameDatabase(fresh, database);
    host.dropLater(discarded);
    this.suspended = false;
  }

  async suspend(): Promise<void> {
    if (this.suspended) return;
    await this.parts.host.allowConnections(this.parts.database, false);
    this.suspended = true;
  }

  /** Throws when the template server died: its databases went with it. */
  async resume(): Promise<void> {
    if (!this.suspended && this.parts.host.alive) return;
    await this.parts.host.allowConnections(this.parts.database, true);
    this.suspended = false;
  }

  /**
   * A new template database copied from this one, in the same server. Its sessions are ended first (a
   * database is copied only while nobody is connected) and connections refused during the copy.
   */
  async snapshot(job: Omit<BuildJob, 'from' | 'files' | 'kind'>): Promise<StoredSnapshot> {
    const { host, database } = this.parts;
    const snapshotDb = templateDatabaseName(job.hash);
    await host.allowConnections(database, false);
    try {
      await host.createDatabase(snapshotDb, database);
      await host.markTemplate(snapshotDb);
    } catch (err) {
      await host.dropDatabase(snapshotDb).catch(() => undefined);
      throw err;
    } finally {
      if (!this.suspended) await host.allowConnections(database, true);
    }
    const meta = metaFor({ ...job, kind: 'branch', files: [], from: { hash: this.parts.parentHash } }, { sizeBytes: await host.databaseSize(snapshotDb), postgresVersion: this.parts.postgresVersion });
    this.parts.keepSnapshot({ meta, host, database: snapshotDb });
    return meta;
  }

  /**
   * Ends its sessions and moves the database out of the way (its URL answers "does not exist" from then on); the
   * old files are dropped in the background. The server may be gone already (close(), a crash): so is the database.
   */
  async destroy(): Promise<void> {
    const { host, database } = this.parts;
    if (!host.alive || !(await host.exists(database))) return;
    const discarded = `${database}_gone_${randomBytes(4).toString('hex')}`;
    await host.allowConnections(database, false);
    await host.renameDatabase(database, discarded);
    host.dropLater(discarded);
  }

  /** A spare copy of the template renamed to the branch's name, else a copy made now. */
  private createDatabase(): Promise<void> {
    return this.copyInto(this.parts.database);
  }

  private async copyInto(name: string): Promise<void> {
    const { host, template, spares } = this.parts;
    if (!(await spares.take(name))) await host.createDatabase(name, template);
  }

  /** The template server goes at exit with every database in it (the driver's closeSync). */
  cleanupSync(): void {}
}

/** The template database of a snapshot: its hash, as a database name (≤ 63 bytes). */
export function templateDatabaseName(hash: string): string {
  return `snapshot_${hash}`.slice(0, 63);
}
