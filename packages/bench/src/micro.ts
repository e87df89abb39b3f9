import { Bench, type FnOptions } from 'tinybench';

/** The phase a hook runs in: the untimed warm-up iterations, or the measured ones. */
export type MicroPhase = 'warmup' | 'run';

/** One timed operation. Only `fn` is timed; the hooks do the untimed set-up and clean-up around it. */
export interface MicroTask {
  /** The method name the samples are reported under (unique within one `runMicro` call). */
  name: string;
  /**
   * The timed call. It may return `{ overriddenDuration: ms }` to report a part of itself instead (used where a
   * caller must do untimed work inside the same call, e.g. concurrent pool leases that hold and release).
   */
  fn: () => Promise<unknown>;
  /** Before each iteration (warm-up included), untimed: e.g. create the branch that `fn` resets. */
  beforeEach?: (phase: MicroPhase) => Promise<void> | void;
  /** After each iteration (warm-up included), untimed: e.g. destroy the branch that `fn` created. */
  afterEach?: (phase: MicroPhase) => Promise<void> | void;
  /** Once before the iterations of each phase, untimed. */
  beforeAll?: (phase: MicroPhase) => Promise<void> | void;
  /** Once after the iterations of each phase (also when one failed), untimed. */
  afterAll?: (phase: MicroPhase) => Promise<void> | void;
}

export interface MicroOptions {
  /** Measured iterations per task, in all (split over the rounds). */
  iterations: number;
  /**
   * Untimed iterations per task before the first measured one (0 = none).
   * @default 1
   */
  warmup?: number;
  /**
   * Rounds the iterations are split into; every round runs each task in turn, so that tasks compared with each other
   * see the same machine load. `rounds: iterations` takes one sample of each task in turn.
   * @default 1
   */
  rounds?: number;
  /**
   * Calls of one task in flight at once (`fn` and its hooks run concurrently up to this many); 1 = one after the other.
   * @default 1
   */
  concurrency?: number;
  /** Told after each measured iteration. */
  progress?: (task: string, done: number, total: number) => void;
}

/**
 * Runs timed tasks with tinybench: a fixed number of iterations (no time budget), warm-up first, the hooks outside
 * the timed call. Returns each task's samples in milliseconds, by task name. A failing call or hook fails the run.
 * Within a round tinybench keeps a task's samples sorted; rounds are appended in the order they ran.
 */
export async function runMicro(tasks: MicroTask[], options: MicroOptions): Promise<Map<string, number[]>> {
  const rounds = Math.max(1, Math.min(options.rounds ?? 1, options.iterations));
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
  const warmup = Math.max(0, options.warmup ?? 1);
  const samples = new Map(tasks.map((task) => [task.name, [] as number[]]));
  if (options.iterations < 1) return samples;
  for (let round = 0; round < rounds; round++) {
    // Spread the remainder over the first rounds, so that the counts add up to `iterations` exactly.
    const iterations = Math.floor(options.iterations / rounds) + (round < options.iterations % rounds ? 1 : 0);
    const bench = new Bench({
      iterations,
      time: 0, // no time budget: exactly `iterations` calls (each costs milliseconds to seconds)
      warmup: round === 0 && warmup > 0,
      warmupIterations: warmup,
      warmupTime: 0,
      retainSamples: true,
      throws: true,
      ...(concurrency > 1 ? { concurrency: 'task' as const, threshold: concurrency } : {}),
    });
    for (const task of tasks) bench.add(task.name, task.fn, hooks(task, samples.get(task.name)!, options));
    await bench.run();
    for (const task of bench.tasks) {
      const result = task.result;
      // With `throws` an error rejects run(); a task without statistics here would be a tinybench change.
      if (!('latency' in result) || !result.latency.samples) throw new Error(`tinybench kept no samples for "${task.name}" (state ${result.state})`);
      samples.get(task.name)!.push(...result.latency.samples);
    }
  }
  return samples;
}

/** tinybench's per-task options: our hooks, progress after each measured call, and no probing call at add(). */
function hooks(task: MicroTask, done: number[], options: MicroOptions): FnOptions {
  let measured = done.length;
  return {
    async: true, // else tinybench calls `fn` once at add() to find out, outside every hook
    beforeAll: task.beforeAll && ((phase) => task.beforeAll!(phase ?? 'run')),
    afterAll: task.afterAll && ((phase) => task.afterAll!(phase ?? 'run')),
    beforeEach: task.beforeEach && ((phase) => task.beforeEach!(phase ?? 'run')),
    afterEach: async (phase) => {
      await task.afterEach?.(phase ?? 'run');
      if (phase === 'run') options.progress?.(task.name, ++measured, options.iterations);
    },
  };
}

/** `runMicro` for a single task: its samples in milliseconds. */
export async function runMicroTask(task: MicroTask, options: MicroOptions): Promise<number[]> {
  return (await runMicro([task], options)).get(task.name)!;
}
