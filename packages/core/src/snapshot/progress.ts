/** Seeding progress for a person at a terminal; silent when stderr is not a TTY. */
export class SeedProgress {
  private readonly enabled = Boolean(process.stderr.isTTY) && process.env.PGBRANCH_QUIET !== '1';
  private started = performance.now();

  constructor(private readonly name: string) {}

  step(what: string): void {
    if (this.enabled) process.stderr.write(`\r\x1b[Kpgbranch: seeding ${this.name}: ${what}`);
  }

  done(hash: string): void {
    if (this.enabled) {
      const ms = Math.round(performance.now() - this.started);
      process.stderr.write(`\r\x1b[Kpgbranch: seeded ${this.name} (${hash.slice(0, 12)}) in ${ms} ms\n`);
    }
  }

  failed(): void {
    if (this.enabled) process.stderr.write('\r\x1b[K');
  }
}
