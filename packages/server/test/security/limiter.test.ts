import { describe, expect, it } from 'vitest';
import { createLimiter } from '../../src/security/limiter.js';

const tick = (ms = 0) => new Promise<void>((r) => setTimeout(r, ms));

describe('createLimiter', () => {
  it('rejects a non-positive or non-integer bound', () => {
    expect(() => createLimiter(0)).toThrow(RangeError);
    expect(() => createLimiter(1.5)).toThrow(RangeError);
    expect(() => createLimiter(Number.NaN)).toThrow(RangeError);
  });

  it('never runs more than max tasks at once', async () => {
    const limiter = createLimiter(3);
    let running = 0;
    let peak = 0;
    const tasks = Array.from({ length: 20 }, (_, i) =>
      limiter.run(async () => {
        running++;
        peak = Math.max(peak, running);
        expect(limiter.active).toBeLessThanOrEqual(3);
        await tick(1 + (i % 4));
        running--;
        return i;
      }),
    );
    expect(limiter.active).toBe(3);
    expect(limiter.pending).toBe(17);
    expect(await Promise.all(tasks)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(peak).toBe(3);
    expect(limiter.active).toBe(0);
    expect(limiter.pending).toBe(0);
  });

  it('starts queued tasks in FIFO order', async () => {
    const limiter = createLimiter(1);
    const started: number[] = [];
    const releases: Array<() => void> = [];
    const all = Array.from({ length: 6 }, (_, i) =>
      limiter.run(
        () =>
          new Promise<void>((resolve) => {
            started.push(i);
            releases.push(resolve);
          }),
      ),
    );
    for (let i = 0; i < 6; i++) {
      await tick();
      expect(started).toEqual(Array.from({ length: i + 1 }, (_, k) => k));
      releases[i]!();
    }
    await Promise.all(all);
  });

  it('a late caller does not overtake queued tasks', async () => {
    const limiter = createLimiter(1);
    const order: string[] = [];
    let releaseFirst!: () => void;
    const first = limiter.run(() => new Promise<void>((r) => (releaseFirst = r)).then(() => order.push('a')));
    const second = limiter.run(() => order.push('b'));
    releaseFirst();
    // Queued synchronously right after the release: must still run after 'b'.
    const third = limiter.run(() => order.push('c'));
    await Promise.all([first, second, third]);
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('propagates results and errors (sync and async) and frees the slot', async () => {
    const limiter = createLimiter(1);
    await expect(limiter.run(() => 42)).resolves.toBe(42);
    await expect(
      limiter.run(() => {
        throw new Error('sync boom');
      }),
    ).rejects.toThrow('sync boom');
    await expect(limiter.run(async () => Promise.reject(new Error('async boom')))).rejects.toThrow('async boom');
    await expect(limiter.run(async () => 'still works')).resolves.toBe('still works');
    expect(limiter.active).toBe(0);
  });

  it('setMax raises the bound and drains the queue', async () => {
    const limiter = createLimiter(1);
    const releases: Array<() => void> = [];
    const all = Array.from({ length: 4 }, () => limiter.run(() => new Promise<void>((r) => releases.push(r))));
    await tick();
    expect(limiter.active).toBe(1);
    limiter.setMax(3);
    await tick();
    expect(limiter.active).toBe(3);
    expect(limiter.pending).toBe(1);
    expect(limiter.max).toBe(3);
    while (releases.length) releases.shift()!();
    await tick();
    releases.forEach((r) => r());
    await Promise.all(all);
    expect(() => limiter.setMax(0)).toThrow(RangeError);
  });
});
