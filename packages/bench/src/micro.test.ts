import { describe, expect, it } from 'vitest';
import { runMicro, runMicroTask, type MicroTask } from './micro.js';

/** A task that logs every call and hook, and reports `ms` as its duration (tinybench's overriddenDuration). */
function logged(name: string, log: string[], ms: number): MicroTask {
  return {
    name,
    beforeAll: (phase) => void log.push(`${name} beforeAll ${phase}`),
    beforeEach: (phase) => void log.push(`${name} beforeEach ${phase}`),
    fn: async () => {
      log.push(`${name} fn`);
      return { overriddenDuration: ms };
    },
    afterEach: (phase) => void log.push(`${name} afterEach ${phase}`),
    afterAll: (phase) => void log.push(`${name} afterAll ${phase}`),
  };
}

describe('runMicro', () => {
  it('runs the warm-up, then exactly the measured iterations, with every hook outside the call', async () => {
    const log: string[] = [];
    const samples = await runMicroTask(logged('a', log, 7), { iterations: 3, warmup: 1 });
    expect(samples).toEqual([7, 7, 7]);
    expect(log).toEqual([
      'a beforeAll warmup',
      'a beforeEach warmup',
      'a fn',
      'a afterEach warmup',
      'a afterAll warmup',
      'a beforeAll run',
      ...Array.from({ length: 3 }, () => ['a beforeEach run', 'a fn', 'a afterEach run']).flat(),
      'a afterAll run',
    ]);
  });

  it('takes one sample of each task in turn when rounds equal iterations', async () => {
    const log: string[] = [];
    const progress: string[] = [];
    const samples = await runMicro([logged('a', log, 1), logged('b', log, 2)], {
      iterations: 3,
      rounds: 3,
      warmup: 0,
      progress: (task, done, total) => progress.push(`${task} ${done}/${total}`),
    });
    expect(log.filter((line) => line.endsWith('fn'))).toEqual(['a fn', 'b fn', 'a fn', 'b fn', 'a fn', 'b fn']);
    expect([...samples]).toEqual([
      ['a', [1, 1, 1]],
      ['b', [2, 2, 2]],
    ]);
    expect(progress).toEqual(['a 1/3', 'b 1/3', 'a 2/3', 'b 2/3', 'a 3/3', 'b 3/3']);
  });

  it('splits iterations that do not divide evenly over the rounds', async () => {
    const samples = await runMicroTask({ name: 'a', fn: async () => ({ overriddenDuration: 1 }) }, { iterations: 5, rounds: 2, warmup: 0 });
    expect(samples).toHaveLength(5);
  });

  it('calls nothing for zero iterations', async () => {
    const log: string[] = [];
    expect(await runMicroTask(logged('a', log, 1), { iterations: 0 })).toEqual([]);
    expect(log).toEqual([]);
  });

  it('keeps at most `concurrency` calls in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const task: MicroTask = {
      name: 'lease',
      fn: async () => {
        most = Math.max(most, ++inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
        return { overriddenDuration: 1 };
      },
    };
    const samples = await runMicroTask(task, { iterations: 12, concurrency: 3, warmup: 3 });
    expect(samples).toHaveLength(12);
    expect(most).toBe(3);
  });

  it('fails when a call fails, after the clean-up hooks ran', async () => {
    const log: string[] = [];
    const task: MicroTask = {
      ...logged('a', log, 1),
      fn: async () => {
        throw new Error('server gone');
      },
    };
    await expect(runMicroTask(task, { iterations: 2, warmup: 0 })).rejects.toThrow('server gone');
    expect(log).toEqual(['a beforeAll run', 'a beforeEach run', 'a afterEach run', 'a afterAll run']);
  });
});
