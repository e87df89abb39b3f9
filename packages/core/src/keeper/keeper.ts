import type { Engine } from '../engine/engine.js';
import { describeCause, UsageError } from '../errors.js';
import { logger } from '../log.js';
import type { NamedBranches, NamedBranchInfo } from '../named/named-branches.js';
import { readKeeper, removeKeeper, writeKeeper } from '../cache/keeper-record.js';
import { WakeFront } from './wake-front.js';

const log = logger('keeper');

export interface KeeperOptions {
  /** A running branch without client connections for this long is idle. @default 5 min */
  idleAfterMs?: number;
  /** …and is suspended after this long without connections. @default 15 min */
  suspendAfterMs?: number;
  /** How often branches are checked. @default 1 s */
  intervalMs?: number;
  /** Hold suspended branches' ports and wake them on connect. @default true */
  wakeOnConnect?: boolean;
  /** What the keeper did, for output (`pgbranch serve` prints these). */
  onEvent?: (event: KeeperEvent) => void;
}

export interface KeeperEvent {
  branch: string;
  action: 'suspended' | 'woke' | 'expired' | 'holding' | 'error';
  detail?: string;
}

/**
 * Looks after the named branches of one cache directory: suspends idle ones, removes expired ones and wakes
 * suspended ones when a client connects to their URL. Branches do not depend on it: without a keeper they
 * simply stay as they are. One keeper per cache directory. `await using` closes it at the end of the scope.
 */
export class Keeper implements AsyncDisposable {
  private readonly fronts = new Map<string, WakeFront>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private closed = false;
  private readonly options: Required<Omit<KeeperOptions, 'onEvent'>> & Pick<KeeperOptions, 'onEvent'>;
  private readonly named: NamedBranches;

  constructor(
    private readonly engine: Engine,
    options: KeeperOptions = {},
  ) {
    this.options = { idleAfterMs: 5 * 60_000, suspendAfterMs: 15 * 60_000, intervalMs: 1000, wakeOnConnect: true, ...options };
    this.named = engine.named({ idleAfterMs: this.options.idleAfterMs });
  }

  /** Registers as this cache directory's keeper and starts checking. Fails if another keeper runs. */
  async start(): Promise<void> {
    const { cacheDir, driver } = this.engine.info();
    const other = await readKeeper(cacheDir, driver);
    if (other && other.pid !== process.pid) {
      throw new UsageError(`Another keeper (pid ${other.pid}, since ${other.startedAt}) already looks after ${cacheDir}; one per cache directory.`);
    }
    await writeKeeper(cacheDir, driver);
    await this.tick();
    // The interval skips a beat while a pass still runs, so slow passes never pile up, and while a branch wakes:
    // the pass would only compete with it for the machine (its activity check is a connection to that server).
    this.timer = setInterval(() => {
      if (!this.ticking && !this.waking()) void this.tick().catch(() => undefined);
    }, this.options.intervalMs);
  }

  /** A full pass over every branch that starts after this call (after the one running, if any). */
  tick(): Promise<void> {
    const pass: Promise<void> = (this.ticking ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.pass())
      .finally(() => {
        if (this.ticking === pass) this.ticking = undefined;
      });
    this.ticking = pass;
    return pass;
  }

  /** Stops checking and releases the ports it holds. Branches stay as they are. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.ticking?.catch(() => undefined);
    for (const front of this.fronts.values()) await front.closeAll();
    this.fronts.clear();
    await removeKeeper(this.engine.info().cacheDir, this.engine.info().driver);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async pass(): Promise<void> {
    if (this.closed) return;
    const branches = await this.named.list();
    const seen = new Set<string>();
    for (const branch of branches) {
      seen.add(branch.name);
      try {
        await this.look(branch);
      } catch (err) {
        this.emit({ branch: branch.name, action: 'error', detail: describeCause(err) });
      }
    }
    for (const [name, front] of this.fronts) {
      if (!seen.has(name)) {
        await front.close();
        this.fronts.delete(name);
      }
    }
  }

  private async look(branch: NamedBranchInfo): Promise<void> {
    if (branch.expired && branch.state !== 'creating') {
      await this.dropFront(branch.name);
      await this.named.destroy(branch.name);
      this.emit({ branch: branch.name, action: 'expired', detail: `TTL reached at ${branch.expiresAt}` });
      return;
    }
    if (branch.state === 'running' || branch.state === 'idle') {
      await this.dropFront(branch.name, true);
      if (branch.connections) {
        await this.named.touch(branch.name);
      } else if (Date.now() - Date.parse(branch.lastUsedAt) >= this.options.suspendAfterMs) {
        if (!(await this.named.suspendIfIdle(branch.name, this.options.suspendAfterMs))) return;
        this.emit({ branch: branch.name, action: 'suspended', detail: `no connections since ${branch.lastUsedAt}` });
        await this.hold({ ...branch, state: 'suspended' });
      }
    } else if (branch.state === 'suspended') {
      await this.hold(branch);
    }
  }

  /** Holds a suspended branch's port so a connection wakes it. */
  private async hold(branch: NamedBranchInfo): Promise<void> {
    if (!this.options.wakeOnConnect || this.closed || !branch.port) return;
    let front = this.fronts.get(branch.name);
    if (front?.port !== branch.port) {
      await front?.close();
      front = new WakeFront(
        branch.name,
        branch.port,
        async (serving) => {
          const t0 = performance.now();
          await this.named.resume(branch.name, { viaFront: false, onServing: serving });
          this.emit({ branch: branch.name, action: 'woke', detail: `on connect, in ${Math.round(performance.now() - t0)} ms` });
        },
        (err) => this.emit({ branch: branch.name, action: 'error', detail: describeCause(err) }),
      );
      this.fronts.set(branch.name, front);
    }
    if (!front.listening && (await front.listen())) this.emit({ branch: branch.name, action: 'holding', detail: `port ${branch.port}: wakes on connect` });
  }

  /** Stops holding a branch's port (it runs, or is gone). `keepProxied` leaves woken connections piped. */
  private async dropFront(name: string, keepProxied = false): Promise<void> {
    const front = this.fronts.get(name);
    if (!front) return;
    if (keepProxied) {
      await front.close();
      return;
    }
    await front.closeAll();
    this.fronts.delete(name);
  }

  private waking(): boolean {
    for (const front of this.fronts.values()) if (front.wakingUp) return true;
    return false;
  }

  private emit(event: KeeperEvent): void {
    log('%s %s %s', event.branch, event.action, event.detail ?? '');
    this.options.onEvent?.(event);
  }
}
