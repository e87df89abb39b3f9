import { execFile } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { createEngine, defaultSettings, type Branch, type ConnectionOptions, type Engine } from '@pgbranch/core';
import { methodResult } from '../stats.js';
import type { BenchContext, MethodResult, Scenario, ScenarioResult } from '../types.js';

/**
 * Scenario "peers": every way this machine offers to get a fresh, isolated database holding the sync-store
 * fixture, measured in the same run on the same fixture, from the request until `select count(*) from documents`
 * returns. Every sample's cleanup (drop database, destroy, stop) is outside the timed part.
 */

const QUERY = 'select count(*) from documents';
const NO_TRANSACTION = /^\s*--\s*pgbranch:\s*no-transaction\b/i;
const PGBRANCH = 'pgbranch branch';
const run = async (ctx: BenchContext): Promise<ScenarioResult> => new PeersRun(ctx).run();

export const peers: Scenario = { id: 'peers', title: 'Peers, same run, same machine, same fixture', run };

type CleanupFn = () => Promise<unknown> | unknown;
type Defer = (fn: CleanupFn) => void;
interface SqlFile {
  name: string;
  text: string;
  inTransaction: boolean;
}

class PeersRun {
  private readonly results: MethodResult[] = [];
  private readonly notes: string[] = [];
  /** Long-lived resources (engines, directories, servers), released in reverse order whatever happens. */
  private readonly finalizers: CleanupFn[] = [];
  private readonly fixtureDir: string;
  private readonly tag = `peers-${process.pid}`;
  private files: SqlFile[] = [];

  constructor(private readonly ctx: BenchContext) {
    this.fixtureDir = path.join(ctx.root, 'fixtures/recipes/sync-store');
  }

  async run(): Promise<ScenarioResult> {
    const started = performance.now();
    try {
      this.files = await readFixture(this.fixtureDir);
      this.notes.push(
        `Every method: from the request for a fresh isolated database holding the sync-store fixture (${this.files.map((f) => f.name).join(', ')}) ` +
          `until "${QUERY}" returns on it; one warm-up, then the samples; cleanup after each sample is not timed.`,
      );
      await this.attempt('pgbranch and template databases', () => this.pgbranchAndTemplates());
      await this.attempt('FILE_COPY with file_copy_method = clone', () => this.fileCopyClone());
      await this.attempt('plain data-directory copy', () => this.copyCloner());
      await this.attempt('initdb + start (no fixture loaded)', () => this.initdbEmpty());
      await this.attempt('initdb + start + load fixture', () => this.initdbFixture());
      await this.attempt('Testcontainers', () => this.testcontainers());
      await this.attempt('PGlite', () => this.pglite());
    } catch (err) {
      this.notes.push(`scenario stopped early: ${describe(err)}`);
    } finally {
      const errors: string[] = [];
      await runCleanups(this.finalizers.splice(0), errors);
      for (const e of errors) this.notes.push(`final cleanup: ${e}`);
    }
    this.ratioNotes();
    const status = this.results.length > 0 ? 'ok' : 'failed';
    return {
      id: peers.id,
      title: peers.title,
      status,
      reason: status === 'failed' ? 'no method could be measured (see notes)' : undefined,
      results: this.results,
      reference: [],
      charts: [{ kind: 'distribution', title: 'Fresh isolated database with the fixture → first query', file: 'peers.svg', yLabel: 'ms', log: true }],
      notes: this.notes,
      durationMs: performance.now() - started,
    };
  }

  /** Runs one method group; a failure becomes a note and the other methods still run. */
  private async attempt(label: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.notes.push(`${label}: failed — ${describe(err)}`);
    }
  }

  /**
   * `n` timed samples after one warm-up. `trial` registers the cleanup of everything it creates through
   * `defer`; that cleanup runs after the clock stops (and on failure).
   */
  private async sampleLoop(label: string, n: number, trial: (defer: Defer, i: number) => Promise<void>): Promise<number[]> {
    const samples: number[] = [];
    for (let i = 0; i <= n; i++) {
      this.ctx.progress(`peers: ${label} ${i === 0 ? 'warm-up' : `${i}/${n}`}`);
      const cleanups: CleanupFn[] = [];
      try {
        const t = performance.now();
        await trial((fn) => cleanups.push(fn), i);
        const ms = performance.now() - t;
        if (i > 0) samples.push(ms);
      } finally {
        const errors: string[] = [];
        await runCleanups(cleanups, errors);
        for (const e of errors) this.notes.push(`${label}: cleanup: ${e}`);
      }
    }
    return samples;
  }

  /** An engine whose close and directory removal are guaranteed by the scenario's finalizers. */
  private async engine(cacheDir: string, cloner?: 'copy'): Promise<{ engine: Engine; release: () => Promise<void> }> {
    await rm(cacheDir, { recursive: true, force: true });
    let engine: Engine | undefined;
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      try {
        await engine?.close();
      } finally {
        await rm(cacheDir, { recursive: true, force: true });
      }
    };
    this.finalizers.push(release);
    engine = await createEngine({ cacheDir, driver: 'local', ...(cloner ? { cloner } : {}) });
    return { engine, release };
  }

  // ---- 1 + 2: pgbranch, and template databases on one pgbranch server --------------------------------------

  private async pgbranchAndTemplates(): Promise<void> {
    const { ctx } = this;
    const { engine, release } = await this.engine(path.join(ctx.workDir, 'peers'));
    const info = engine.info();
    ctx.progress('peers: seeding sync-store snapshot');
    const snap = await engine.snapshot({ name: 'sync-store', sql: [this.fixtureDir] });
    this.notes.push(
      `PostgreSQL ${info.postgresVersion} (${info.binariesFrom}); sync-store snapshot ${(snap.sizeBytes / 1e6).toFixed(0)} MB; ` +
        `pgbranch cache in ${ctx.workDir} → cloner ${info.cloner} (${info.clonerReason}).`,
    );

    const samples = await this.sampleLoop(`pgbranch (${info.cloner})`, ctx.iterations, async (defer) => {
      const branch = await snap.branch();
      defer(() => branch.destroy());
      await queryOnce(branch.connectionOptions(), defer);
    });
    this.results.push(
      methodResult(`${PGBRANCH} (local, ${info.cloner})`, samples, {
        note: `createEngine({ cacheDir }) on the work disk, cloner ${info.cloner}; snap.branch() + pg connect over TCP + query; branch.destroy() untimed.`,
      }),
    );

    // Template databases (IntegreSQL / pgtestdb): one running server, a template database, CREATE DATABASE per test.
    const server = await snap.branch({ name: 'template-server' });
    this.finalizers.push(() => server.destroy());
    const major = await this.templateServer(server, 'fixture_tpl', `on the ${info.cloner} branch`);
    for (const strategy of ['WAL_LOG', 'FILE_COPY'] as const) {
      await this.attempt(`CREATE DATABASE … STRATEGY ${strategy}`, () =>
        this.templateMethod(server, strategy, undefined, `on one pgbranch branch (${info.cloner} cache on the work disk) used as the server`),
      );
    }
    if (major < 18) this.notes.push(`file_copy_method = clone: needs PostgreSQL 18 (server is ${major}).`);
    await server.destroy();
    await release();
  }

  /** Makes `name` a copy of the branch's `postgres` database (which holds the fixture); returns the server's major version. */
  private async templateServer(server: Branch, name: string, where: string): Promise<number> {
    // Connected to template1: the source of CREATE DATABASE must have no other sessions.
    const admin = new pg.Client({ ...server.connectionOptions(), database: 'template1' });
    await admin.connect();
    try {
      const t = performance.now();
      await admin.query(`CREATE DATABASE ${name} TEMPLATE postgres`);
      this.notes.push(`template database ${name} ${where} (CREATE DATABASE … TEMPLATE postgres, once, untimed): ${(performance.now() - t).toFixed(0)} ms.`);
      const { rows } = await admin.query<{ v: string }>('SHOW server_version_num');
      return Math.floor(Number(rows[0]!.v) / 10000);
    } finally {
      await admin.end();
    }
  }

  /** CREATE DATABASE tNN TEMPLATE fixture_tpl STRATEGY … + connect to it + query, per sample; DROP untimed. */
  private async templateMethod(server: Branch, strategy: 'WAL_LOG' | 'FILE_COPY', fileCopyMethod: 'clone' | undefined, where: string): Promise<void> {
    const label = `CREATE DATABASE … STRATEGY ${strategy}${fileCopyMethod ? `, file_copy_method = ${fileCopyMethod}` : ''}`;
    // The test harness's long-lived admin connection (IntegreSQL keeps one), opened outside the timing.
    const admin = new pg.Client({ ...server.connectionOptions(), database: 'template1' });
    await admin.connect();
    try {
      if (fileCopyMethod) await admin.query(`SET file_copy_method = ${fileCopyMethod}`);
      const prefix = `t_${strategy.toLowerCase()}${fileCopyMethod ? `_${fileCopyMethod}` : ''}`;
      const samples = await this.sampleLoop(label, this.ctx.iterations, async (defer, i) => {
        const db = `${prefix}_${i}`;
        await admin.query(`CREATE DATABASE ${db} TEMPLATE fixture_tpl STRATEGY ${strategy}`);
        defer(() => admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`));
        await queryOnce({ ...server.connectionOptions(), database: db }, defer);
      });
      this.results.push(
        methodResult(label, samples, {
          note:
            `Template database (IntegreSQL/pgtestdb approach) ${where}: fixture_tpl copied once from the fixture, then per sample ` +
            `CREATE DATABASE tNN TEMPLATE fixture_tpl STRATEGY ${strategy}${fileCopyMethod ? ` with SET file_copy_method = ${fileCopyMethod}` : ''} ` +
            `over an open admin connection + pg connect to tNN + query; DROP DATABASE … WITH (FORCE) untimed. Databases share one server (not process-isolated).`,
        }),
      );
    } finally {
      await admin.end();
    }
  }

  // ---- 2b: FILE_COPY with file_copy_method = clone, on a reflink filesystem --------------------------------

  private async fileCopyClone(): Promise<void> {
    const { ctx } = this;
    const label = 'CREATE DATABASE … STRATEGY FILE_COPY, file_copy_method = clone';
    if (!ctx.reflinkDir) {
      this.notes.push(`${label}: skipped — no reflink filesystem (ctx.reflinkDir / PGBRANCH_TEST_REFLINK_DIR unset); clone only helps when the data directory is on one.`);
      return;
    }
    const { engine, release } = await this.engine(path.join(ctx.reflinkDir, this.tag));
    const info = engine.info();
    ctx.progress('peers: seeding sync-store snapshot on the reflink filesystem');
    const snap = await engine.snapshot({ name: 'sync-store', sql: [this.fixtureDir] });
    const server = await snap.branch({ name: 'template-server-reflink' });
    this.finalizers.push(() => server.destroy());
    const major = await this.templateServer(server, 'fixture_tpl', `on the ${info.cloner} branch in ${ctx.reflinkDir}`);
    if (major < 18) {
      this.notes.push(`${label}: skipped — file_copy_method needs PostgreSQL 18 (server is ${major}).`);
    } else {
      await this.templateMethod(server, 'FILE_COPY', 'clone', `on one pgbranch branch whose data directory is on ${ctx.reflinkDir} (cloner ${info.cloner})`);
    }
    await server.destroy();
    await release();
  }

  // ---- 3: plain copy, and fresh clusters ---------------------------------------------------------------------

  private async copyCloner(): Promise<void> {
    const { ctx } = this;
    const { engine, release } = await this.engine(path.join(ctx.workDir, 'peers-copy'), 'copy');
    ctx.progress('peers: seeding sync-store snapshot (copy engine)');
    const snap = await engine.snapshot({ name: 'sync-store', sql: [this.fixtureDir] });
    const samples = await this.sampleLoop('plain data-directory copy + start', ctx.iterations, async (defer) => {
      const branch = await snap.branch();
      defer(() => branch.destroy());
      await queryOnce(branch.connectionOptions(), defer);
    });
    this.results.push(
      methodResult('plain data-directory copy + start', samples, {
        note: `pgbranch with cloner 'copy' (a plain file copy of the ${(snap.sizeBytes / 1e6).toFixed(0)} MB data directory on the work disk) + start postgres + pg connect + query.`,
      }),
    );
    await release();
  }

  private async initdbEmpty(): Promise<void> {
    const { ctx } = this;
    const n = Math.min(ctx.iterations, 3);
    const method = 'initdb + start (no fixture loaded)';
    const samples = await this.sampleLoop(method, n, async (defer, i) => {
      const { engine, release } = await this.engine(path.join(ctx.workDir, `peers-fresh-empty-${i}`));
      defer(release);
      const snap = await engine.snapshot({ name: 'empty', sql: [] });
      const branch = await snap.branch();
      defer(() => branch.destroy());
      await queryOnce(branch.connectionOptions(), defer, 'select 1');
    });
    this.results.push(
      methodResult(method, samples, {
        note:
          `No fixture: createEngine on a fresh empty cache directory (cloner probes) + initdb + an empty snapshot + branch + pg connect + "select 1" ` +
          `(documents does not exist). A lower bound for any fresh cluster. ${n} samples (min(iterations, 3)).`,
      }),
    );
  }

  private async initdbFixture(): Promise<void> {
    const { ctx } = this;
    const n = Math.min(ctx.iterations, 3);
    const method = 'initdb + start + load fixture';
    const samples = await this.sampleLoop(method, n, async (defer, i) => {
      const { engine, release } = await this.engine(path.join(ctx.workDir, `peers-fresh-fixture-${i}`));
      defer(release);
      const snap = await engine.snapshot({ name: 'sync-store', sql: [this.fixtureDir] });
      const branch = await snap.branch();
      defer(() => branch.destroy());
      await queryOnce(branch.connectionOptions(), defer);
    });
    this.results.push(
      methodResult(method, samples, {
        note:
          `What a suite without snapshots pays per run: fresh cache directory each sample, createEngine + initdb + seed the fixture ` +
          `(engine.snapshot, which also checkpoints, stops and keeps the seeded cluster) + branch + pg connect + query. ${n} samples (min(iterations, 3)).`,
      }),
    );
  }

  // ---- 4: Testcontainers ----------------------------------------------------------------------------------------

  private async testcontainers(): Promise<void> {
    const { ctx } = this;
    this.notes.push(
      "Testcontainers' own snapshot/restore (@testcontainers/postgresql snapshot()/restoreSnapshot()) is not measured: it needs the official " +
        `postgres image's entrypoint and environment, and there is no image registry here (the only image is ${ctx.docker.image}).`,
    );
    if (!ctx.docker.available) {
      this.notes.push(`Testcontainers fresh container: skipped — Docker not available${ctx.docker.reason ? ` (${ctx.docker.reason})` : ''}.`);
      return;
    }
    process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true'; // its reaper image would need a registry
    process.env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1'; // no bridge network here to find a gateway on
    const { GenericContainer, Wait } = await import('testcontainers');
    const label = `pgbranch.bench=${this.tag}`;
    // Whatever testcontainers did or did not stop on an error, no labelled container survives the scenario.
    this.finalizers.push(() => removeLabelledContainers(label));
    const major = Number(/:(\d+)(?:$|[.-])/.exec(ctx.docker.image)?.[1] ?? 0);
    const settings = Object.entries(defaultSettings(major)).map(([k, v]) => `-c ${k}=${v}`).join(' ');
    const method = 'Testcontainers fresh container + load fixture';
    const samples = await this.sampleLoop(method, ctx.iterations, async (defer) => {
      const port = await freePort();
      const container = await new GenericContainer(ctx.docker.image)
        .withNetworkMode('host')
        .withUser('postgres')
        .withLabels({ 'pgbranch.bench': this.tag })
        .withCommand([
          'sh',
          '-c',
          `initdb -D /tmp/d -U postgres --auth=trust --encoding=UTF8 --locale=C --wal-segsize=1 >/dev/null && ` +
            `exec postgres -D /tmp/d -p ${port} -c listen_addresses=127.0.0.1 ${settings}`,
        ])
        .withWaitStrategy(Wait.forLogMessage(/ready to accept connections/))
        .withStartupTimeout(120_000)
        .start();
      defer(() => container.stop({ timeout: 1, remove: true }));
      const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
      defer(() => client.end());
      await client.connect();
      for (const file of this.files) {
        if (file.inTransaction) await client.query('BEGIN');
        await client.query(file.text);
        if (file.inTransaction) await client.query('COMMIT');
      }
      await client.query(QUERY);
    });
    this.results.push(
      methodResult(method, samples, {
        note:
          `GenericContainer(${ctx.docker.image}), host network, one container per sample ("per test file"): initdb + start postgres ` +
          `(same server settings as pgbranch's) + pg connect + each fixture file sent as one query inside BEGIN/COMMIT + query; ` +
          `container.stop() untimed. Ryuk disabled (no registry).`,
      }),
    );
  }

  // ---- 5: PGlite ------------------------------------------------------------------------------------------------

  private async pglite(): Promise<void> {
    const { ctx } = this;
    let mod: typeof import('@electric-sql/pglite');
    try {
      mod = await import('@electric-sql/pglite');
    } catch (err) {
      this.notes.push(`PGlite: skipped — @electric-sql/pglite cannot be loaded (${describe(err)}).`);
      return;
    }
    const { PGlite } = mod;
    const load = async (db: InstanceType<typeof PGlite>) => {
      for (const file of this.files) {
        if (file.inTransaction) await db.exec('BEGIN');
        await db.exec(file.text);
        if (file.inTransaction) await db.exec('COMMIT');
      }
    };
    let version = 'unknown';
    try {
      const probe = new PGlite();
      this.finalizers.push(() => probe.closed || probe.close());
      await probe.waitReady;
      version = (await probe.query<{ v: string }>('select version() as v')).rows[0]!.v.replace(/ on wasm32.*$/, '');
      await load(probe);
      await probe.query(QUERY);
      await probe.close();
    } catch (err) {
      this.notes.push(`PGlite: skipped — the sync-store fixture does not load in PGlite: ${describe(err)}`);
      return;
    }

    const fresh = 'PGlite new instance + load fixture';
    const freshSamples = await this.sampleLoop(fresh, ctx.iterations, async (defer) => {
      const db = new PGlite();
      defer(() => db.close());
      await db.waitReady;
      await load(db);
      await db.query(QUERY);
    });
    this.results.push(
      methodResult(fresh, freshSamples, {
        note: `${version}: PostgreSQL compiled to WASM, in this Node process, in memory, single connection. new PGlite() + exec each fixture file inside BEGIN/COMMIT + db.query(); close() untimed.`,
      }),
    );

    const base = new PGlite();
    this.finalizers.push(() => base.closed || base.close());
    await base.waitReady;
    await load(base);
    if (typeof (base as { clone?: unknown }).clone !== 'function') {
      this.notes.push(`PGlite clone(): skipped — not in this version (${version}).`);
      return;
    }
    const clone = 'PGlite clone()';
    const cloneSamples = await this.sampleLoop(clone, ctx.iterations, async (defer) => {
      const db = await base.clone();
      defer(() => db.close());
      await db.query(QUERY);
    });
    this.results.push(
      methodResult(clone, cloneSamples, {
        note: `${version}: await base.clone() of an in-memory instance with the fixture loaded (loaded once, untimed) + db.query(); close() untimed.`,
      }),
    );
  }

  // ---- ratios ---------------------------------------------------------------------------------------------------

  private ratioNotes(): void {
    const ref = this.results.find((r) => r.method.startsWith(PGBRANCH));
    if (!ref || ref.summary.count === 0 || ref.summary.p50 <= 0) {
      this.notes.push('× pgbranch: not computed (pgbranch was not measured).');
      return;
    }
    this.notes.push(`× pgbranch = a method's p50 ÷ the p50 of "${ref.method}" (${ref.summary.p50.toFixed(1)} ms), same run:`);
    for (const r of this.results) {
      if (r === ref || r.summary.count === 0) continue;
      this.notes.push(`  ${r.method}: p50 ${r.summary.p50.toFixed(1)} ms = ${formatRatio(r.summary.p50 / ref.summary.p50)} × pgbranch`);
    }
  }
}

async function readFixture(dir: string): Promise<SqlFile[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.sql')).sort();
  return Promise.all(
    names.map(async (name) => {
      const text = await readFile(path.join(dir, name), 'utf8');
      return { name, text, inTransaction: !NO_TRANSACTION.test(text) };
    }),
  );
}

/** pg connect + one query; the connection is closed by the caller's cleanup, after the clock stops. */
async function queryOnce(options: ConnectionOptions, defer: Defer, sql = QUERY): Promise<void> {
  const client = new pg.Client(options);
  defer(() => client.end());
  await client.connect();
  await client.query(sql);
}

/** Runs cleanups in reverse order; failures are recorded, never thrown. */
async function runCleanups(fns: CleanupFn[], errors: string[]): Promise<void> {
  for (const fn of fns.reverse()) {
    try {
      await fn();
    } catch (err) {
      errors.push(`cleanup failed: ${describe(err)}`);
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function removeLabelledContainers(label: string): Promise<void> {
  const exec = promisify(execFile);
  const { stdout } = await exec('docker', ['ps', '-aq', '--filter', `label=${label}`]);
  const ids = stdout.split('\n').filter(Boolean);
  if (ids.length > 0) await exec('docker', ['rm', '-f', '-v', ...ids]);
}

function formatRatio(x: number): string {
  return x >= 10 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toFixed(2);
}

function describe(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300);
}
