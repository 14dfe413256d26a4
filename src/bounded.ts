// Many small filesystem calls at once, a bounded number at a time: issued together they overlap in libuv's thread
// pool and the filesystem's journal (docs/BENCHMARKS.md "A snapshot of an unchanged mirror"), and the bound keeps a
// repository with thousands of files from holding thousands of buffers or descriptors.

/**
 * `fn` over every item, at most `limit` at once, results in the items' order. After a failure no further item
 * starts; those running are awaited, then the first failure is thrown, so nothing is still writing when the caller
 * cleans up.
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const failures: unknown[] = [];
  const worker = async () => {
    while (!failures.length && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index]!, index);
      } catch (error) {
        failures.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failures.length) throw failures[0];
  return results;
}
