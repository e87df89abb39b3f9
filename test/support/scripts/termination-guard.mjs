// Exercises the termination guard in a plain Node process (its own process handlers, not the test
// runner's). Prints one JSON line per observation. argv[2]: 'forward' or 'alone'.
import { terminationGuard } from '@pgbranch/core/client';

const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const terminated = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
const wrapped = Object.assign(new Error('Unhandled error. ([object Object])'), { code: 'ERR_UNHANDLED_ERROR', context: { message: 'Connection terminated unexpectedly' } });

if (process.argv[2] === 'forward') {
  const runner = [];
  const runnerListener = (err) => runner.push(err.message);
  process.on('uncaughtException', runnerListener);
  const seen = [];
  const release = terminationGuard().hold((err) => seen.push(err.code ?? err.message), 50);
  setTimeout(() => {
    throw terminated;
  });
  setTimeout(() => {
    throw wrapped;
  });
  setTimeout(() => {
    throw new Error('a real bug');
  });
  setTimeout(() => {
    release();
    say({ during: { seen, runner: [...runner], listeners: process.listeners('uncaughtException').length, runnerHeld: !process.listeners('uncaughtException').includes(runnerListener) } });
  }, 20);
  setTimeout(() => {
    say({ after: { listeners: process.listeners('uncaughtException').length, runnerBack: process.listeners('uncaughtException').includes(runnerListener) } });
    process.exit(0);
  }, 200);
} else {
  // No handler before the guard: an error that is not a termination must crash the process as usual.
  terminationGuard().hold(() => say({ wrong: true }));
  setTimeout(() => {
    throw new Error('a real bug, unhandled');
  });
  setTimeout(() => say({ survived: true }), 100);
}
