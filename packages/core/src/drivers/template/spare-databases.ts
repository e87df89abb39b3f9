import { randomBytes } from 'node:crypto';
import { describeCause } from '../../errors.js';
import { logger } from '../../log.js';
import type { TemplateHost } from './template-host.js';

const log = logger('template');

/**
 * Databases copied from one template ahead of demand, so that a new branch (or a reset) is a rename, not a copy:
 * `ALTER DATABASE … RENAME` only updates the catalog, while the copy costs time in proportion to the database
 * where the filesystem cannot clone (ext4: ~110 ms for a 27 MB database on 2 busy cores). The first branch of a
 * template starts the filling; every spare taken is replaced in the background, one copy at a time.
 */
export class SpareDatabases {
  private readonly ready: string[] = [];
  private filling = false;
  private stopped = false;

  constructor(
    private readonly host: TemplateHost,
    private readonly template: string,
    private readonly target: number,
  ) {}

  /** Renames a spare to `name` and returns true; false when none is ready (the caller copies the template). */
  async take(name: string): Promise<boolean> {
    const spare = this.ready.shift();
    this.fill();
    if (!spare) return false;
    try {
      await this.host.renameDatabase(spare, name);
      return true;
    } catch (err) {
      log('template server %s: spare %s could not be taken: %s', this.host.dir, spare, describeCause(err));
      if (this.host.alive) this.host.dropLater(spare);
      return false;
    }
  }

  /** Makes no more; `drop` drops the ready ones (not when the server is about to stop: they go with it). */
  stop(drop: boolean): void {
    this.stopped = true;
    const spares = this.ready.splice(0);
    if (drop && this.host.alive) for (const spare of spares) this.host.dropLater(spare);
  }

  private fill(): void {
    if (this.filling || this.stopped) return;
    this.filling = true;
    void this.fillNow().finally(() => (this.filling = false));
  }

  private async fillNow(): Promise<void> {
    try {
      while (!this.stopped && this.host.alive && this.ready.length < this.target) {
        const spare = `spare_${randomBytes(4).toString('hex')}`;
        await this.host.createDatabase(spare, this.template, 'later');
        if (this.stopped) this.host.dropLater(spare);
        else this.ready.push(spare);
      }
    } catch (err) {
      // A server that stops or dies meanwhile: branches then copy the template themselves (and fail clearly).
      log('template server %s: copying a spare of %s failed: %s', this.host.dir, this.template, describeCause(err));
    }
  }
}
