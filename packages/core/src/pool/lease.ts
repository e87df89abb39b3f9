import { inspect } from 'node:util';
import type { Branch } from '../branch/branch.js';
import { UsageError } from '../errors.js';

/** A branch handed out by a pool to one holder until released. */
export class Lease implements AsyncDisposable {
  private released = false;

  /** @internal */
  constructor(
    readonly id: string,
    readonly branch: Branch,
    /** How long acquire() waited for this branch, in ms. */
    readonly waitedMs: number,
    private readonly onRelease: (lease: Lease) => Promise<void>,
  ) {}

  get url(): string {
    return this.branch.url;
  }
  get isReleased(): boolean {
    return this.released;
  }

  /** Gives the branch back (it is destroyed and replaced). Releasing twice is a mistake and throws. */
  async release(): Promise<void> {
    if (this.released) throw new UsageError(`Lease ${this.id} (branch "${this.branch.name}") was already released.`);
    this.released = true;
    await this.onRelease(this);
  }

  /** @internal The pool handed the branch to someone else for good (keep); the lease is over. */
  markDetached(): void {
    this.released = true;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.released) await this.release();
  }

  toString(): string {
    return `Lease(${this.id}, ${String(this.branch)})`;
  }
  [inspect.custom](): string {
    return this.toString();
  }
}
