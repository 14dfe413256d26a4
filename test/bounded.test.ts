// mapBounded (src/bounded.ts): a bounded number at once, results in order, and after a failure nothing new starts
// and nothing is left running.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { mapBounded } from '../src/bounded.ts';

describe('mapBounded', () => {
  it('keeps the items\' order and never runs more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const out = await mapBounded([5, 1, 4, 2, 3, 0, 2, 1], 3, async (ms, index) => {
      most = Math.max(most, ++running);
      await sleep(ms);
      running--;
      return `${index}:${ms}`;
    });
    expect(out).toEqual(['0:5', '1:1', '2:4', '3:2', '4:3', '5:0', '6:2', '7:1']);
    expect(most).toBe(3);
  });

  it('after a failure starts nothing new, waits for those running, then throws the first failure', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const run = mapBounded([0, 1, 2, 3, 4, 5], 2, async (item) => {
      started.push(item);
      if (item === 1) throw new Error('item 1 failed');
      await sleep(10);
      finished.push(item);
    });
    await expect(run).rejects.toThrow('item 1 failed');
    expect(started).toEqual([0, 1]);
    expect(finished).toEqual([0]);
  });

  it('does nothing for no items', async () => {
    expect(await mapBounded([], 4, async () => 1)).toEqual([]);
  });
});
