// Filesystem helpers shared by snapshot, verify, restore and status.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, lstat, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { mapBounded } from './bounded.ts';

export interface WalkEntry {
  /** Path relative to the walked root, with forward slashes. */
  rel: string;
  abs: string;
  size: number;
  ino: number;
  dev: number;
  blocks: number;
  mode: number;
}

/** Regular files below `root`, sorted by path; symlinks and special files are reported through `onOther`. */
export async function walkFiles(
  root: string,
  options: { skipDir?: (rel: string) => boolean; onOther?: (rel: string) => void } = {},
): Promise<WalkEntry[]> {
  const out: WalkEntry[] = [];
  async function visit(dir: string, relDir: string): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    // A directory's files are stat'ed side by side; they keep their sorted place in the output.
    const stats = await Promise.all(entries.map((entry) => (entry.isFile() ? lstat(join(dir, entry.name)) : null)));
    for (const [index, entry] of entries.entries()) {
      const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
      const abs = join(dir, entry.name);
      const st = stats[index];
      if (entry.isDirectory()) {
        if (!options.skipDir?.(rel)) await visit(abs, rel);
      } else if (st) {
        out.push({ rel, abs, size: st.size, ino: st.ino, dev: st.dev, blocks: st.blocks, mode: st.mode });
      } else {
        options.onOther?.(rel);
      }
    }
  }
  await visit(root, '');
  return out;
}

/** Files up to this size are hashed from one read; larger ones are streamed. */
const WHOLE_READ_BYTES = 1 << 20;

/** The file's sha256; `size`, when the caller knows it, lets a small file be read at once instead of streamed. */
export async function sha256File(path: string, size = Infinity): Promise<string> {
  if (size <= WHOLE_READ_BYTES) return createHash('sha256').update(await readFile(path)).digest('hex');
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * fsync every path, many at once: issued together, the filesystem commits them in one journal transaction instead
 * of one each (docs/BENCHMARKS.md "A snapshot of an unchanged mirror").
 */
export async function fsyncAll(paths: readonly string[]): Promise<void> {
  await mapBounded(paths, 64, fsyncPath);
}

export async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

export async function isEmptyDir(path: string): Promise<boolean> {
  try {
    return (await readdir(path)).length === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
}

/** Remove a tree we made read-only: directories need their write bit back first. */
export async function removeTree(path: string): Promise<void> {
  if (!(await exists(path))) return;
  async function unlock(dir: string): Promise<void> {
    await chmod(dir, 0o755);
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) await unlock(join(dir, entry.name));
    }
  }
  if ((await lstat(path)).isDirectory()) await unlock(path);
  await rm(path, { recursive: true, force: true });
}

/** Bytes on disk with every inode counted once, and apparent bytes counting every link. */
export function diskUsage(entries: Iterable<WalkEntry>, seen: Set<string> = new Set()): { disk: number; apparent: number } {
  let disk = 0;
  let apparent = 0;
  for (const e of entries) {
    apparent += e.size;
    const key = `${e.dev}:${e.ino}`;
    if (seen.has(key)) continue;
    seen.add(key);
    disk += e.blocks * 512;
  }
  return { disk, apparent };
}

export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
