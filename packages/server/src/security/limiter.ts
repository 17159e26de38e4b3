/**
 * A small async semaphore.
 *
 * `createLimiter(max).run(fn)` runs `fn` as soon as fewer than `max` tasks are
 * running; otherwise it waits in a FIFO queue. A finishing task hands its slot
 * directly to the oldest waiter, so a late caller can never overtake a queued
 * one, and at most `max` tasks ever run at the same time.
 */

export interface Limiter {
  /** Runs `fn` under the limit; resolves or rejects with its outcome. */
  run<T>(fn: () => T | PromiseLike<T>): Promise<T>;
  /** Changes the bound; raising it starts queued tasks at once. */
  setMax(max: number): void;
  /** The current bound. */
  readonly max: number;
  /** Tasks currently running. */
  readonly active: number;
  /** Tasks waiting for a slot. */
  readonly pending: number;
}

function checkMax(max: number): number {
  if (!Number.isSafeInteger(max) || max < 1) {
    throw new RangeError(`limiter: max must be a positive integer, got ${String(max)}`);
  }
  return max;
}

export function createLimiter(max: number): Limiter {
  let bound = checkMax(max);
  let active = 0;
  // FIFO queue with a moving head: O(1) enqueue and dequeue.
  let queue: Array<() => void> = [];
  let head = 0;

  const queued = (): number => queue.length - head;

  const dequeue = (): (() => void) | undefined => {
    if (head >= queue.length) return undefined;
    const task = queue[head];
    queue[head] = undefined as unknown as () => void;
    head += 1;
    if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
    return task;
  };

  const drain = (): void => {
    while (active < bound && queued() > 0) {
      const task = dequeue();
      if (task) task();
    }
  };

  const release = (): void => {
    active -= 1;
    drain();
  };

  return {
    run<T>(fn: () => T | PromiseLike<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const start = (): void => {
          active += 1;
          let result: Promise<T>;
          try {
            result = Promise.resolve(fn());
          } catch (err) {
            result = Promise.reject(err as Error);
          }
          result.then(
            (value) => {
              release();
              resolve(value);
            },
            (err: unknown) => {
              release();
              reject(err);
            },
          );
        };
        if (active < bound && queued() === 0) start();
        else queue.push(start);
      });
    },
    setMax(next: number): void {
      bound = checkMax(next);
      drain();
    },
    get max() {
      return bound;
    },
    get active() {
      return active;
    },
    get pending() {
      return queued();
    },
  };
}
