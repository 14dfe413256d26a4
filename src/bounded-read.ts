// Files we parse whole (snapshot.json, state files, checksum sidecars) are read only up to a size cap: a tampered
// 92 MB snapshot.json must not take list or prune past the container's memory limit (docs/OPERATIONS.md,
// "Size limits").
import { open } from 'node:fs/promises';
import { BackupError } from './errors.ts';

/** 1,234,567 bytes, for messages. */
export const formatCount = (n: number): string => n.toLocaleString('en-US');

/**
 * The whole of `path` as UTF-8, refusing a file over `maxBytes` before reading it (and one that grows past the cap
 * while being read). `what` names the file's role in the error. Errors from open() (ENOENT) are passed on.
 */
export async function readTextCapped(path: string, maxBytes: number, what: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const tooBig = (bytes: string) =>
      new BackupError(`${path}: ${what} is ${bytes} bytes, over the ${formatCount(maxBytes)}-byte limit: it is damaged or was tampered with`);
    if (size > maxBytes) throw tooBig(formatCount(size));
    const buffer = Buffer.alloc(Math.min(size, maxBytes) + 1);
    let filled = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (filled > maxBytes) throw tooBig(`more than ${formatCount(maxBytes)}`);
      if (filled === buffer.length) break;
    }
    return buffer.subarray(0, filled).toString('utf8');
  } finally {
    await handle.close();
  }
}
