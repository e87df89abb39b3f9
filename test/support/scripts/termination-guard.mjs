// Exercises the termination guard in a plain Node process (its own process handlers, not the test
// runner's). Prints one JSON line per observation. argv[2]: 'forward', 'alone' or 'swapped'.
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
} else if (process.argv[2] === 'swapped') {
  // A runner that swaps the handlers per file, as jest-circus does: it saves and removes them when a file
  // starts, installs its own, and puts the saved ones back when the file ends.
  const wait = (ms) => new Promise((r) => setTimeout(r, ms));
  const throwSoon = (err) => setTimeout(() => {
    throw err;
  });
  const got = { top: [], circus: [], guard: [] };
  const top = (err) => got.top.push(err.message);
  const circus = (err) => got.circus.push(err.message);
  process.on('uncaughtException', top);
  terminationGuard().hold(() => got.guard.push('end of file 1'), 50)(); // file 1's release; grace runs on
  const saved = process.listeners('uncaughtException');
  for (const l of saved) process.off('uncaughtException', l);
  process.on('uncaughtException', circus); // file 2 starts
  await wait(100);
  const release = terminationGuard().hold(() => got.guard.push('reset in file 2'), 50);
  throwSoon(terminated);
  throwSoon(new Error('bug in file 2'));
  await wait(20);
  release();
  process.off('uncaughtException', circus); // file 2 ends
  for (const l of saved) process.on('uncaughtException', l);
  await wait(100);
  throwSoon(new Error('bug after the run'));
  await wait(20);
  say({ got, listeners: process.listeners('uncaughtException').length, topBack: process.listeners('uncaughtException').includes(top) });
  process.exit(0);
} else {
  // No handler before the guard: an error that is not a termination must crash the process as usual.
  terminationGuard().hold(() => say({ wrong: true }));
  setTimeout(() => {
    throw new Error('a real bug, unhandled');
  });
  setTimeout(() => say({ survived: true }), 100);
}
