/** Runs at most `slots` of the given jobs at once (cells share two cores with the rest of CI). */
export function limiter(slots: number) {
  let free = slots;
  const waiting: Array<() => void> = [];
  return async function limited<T>(job: () => Promise<T>): Promise<T> {
    if (free > 0) free--;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await job();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else free++;
    }
  };
}
