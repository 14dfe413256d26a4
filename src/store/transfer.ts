// Byte-moving helpers shared by push, pull and verify: bounded parallelism and a stream that proves its sha256.
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { BackupError } from '../errors.ts';

/** Run `task` over `items`, at most `limit` at a time; the first failure stops new starts and is thrown. */
export async function forEachLimit<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: { error: unknown } | null = null;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        await task(item);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed) throw (failed as { error: unknown }).error;
}

/**
 * Passes bytes through and fails at the end, instead of ending, unless they were exactly `size` bytes with this
 * sha256: a store that sees the stream fail writes nothing, so damaged bytes never land under a content key.
 */
export class Sha256Check extends Transform {
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private readonly expected: { sha256: string; size: number };
  private readonly what: string;

  constructor(expected: { sha256: string; size: number }, what: string) {
    super();
    this.expected = expected;
    this.what = what;
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }
  override _flush(callback: TransformCallback): void {
    const actual = this.hash.digest('hex');
    if (actual !== this.expected.sha256 || this.bytes !== this.expected.size) {
      callback(new BackupError(`${this.what}: content does not match its recorded checksum (expected sha256 ${this.expected.sha256}, ${this.expected.size} bytes; found ${actual}, ${this.bytes} bytes)`));
      return;
    }
    callback();
  }
}
