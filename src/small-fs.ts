// Synchronous calls for the small file operations every writer makes for every repository (its lock, the look for
// an interrupted run's leftovers, a new mirror's skeleton and refs): one system call each, where a fs/promises call
// costs the engine's one thread 30 to 120 µs of CPU in the thread pool's round trip (docs/BENCHMARKS.md "Scale").
// Only reads and the creation of small files are synchronous. A read of a directory blocks the thread in
// proportion to its entries: a new mirror's refs/ with 100,000 loose refs takes about 70 ms, once, where the walks
// of whole mirrors and snapshots (fsutil.ts) stay asynchronous. Whatever can wait for the disk stays asynchronous
// too: fsync, and removals (an rmdir or unlink waits for the ext4 journal while others commit: measured up to
// 49 ms on the engine's thread).
import { lstatSync, readdirSync, type Dirent } from 'node:fs';

/** Whether anything (a file, a directory, a symlink, dangling or not) is at `path`. */
export function present(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
}

/** The entries of directory `dir`; none when it is missing or unreadable. */
export function entriesOf(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}
