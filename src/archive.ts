// Export and import of a snapshot as a gzip tar (npm `tar` v7). An archive is complete or absent (temp file,
// fsync, link into place) and carries a sha256sum sidecar. Extraction trusts nothing in the archive: every entry
// is checked against a strict shape (one top directory, no absolute paths, no "..", no links leaving the tree,
// no devices) before anything is written, checked again while extracting, and the result appears at its final
// path only once everything succeeded.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, lstat, mkdir, open, readdir, readlink, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import * as tar from 'tar';
import { Header, Pax, type HeaderData } from 'tar';
import { readTextCapped } from './bounded-read.ts';
import { BackupError, UsageError, errorMessage } from './errors.ts';
import { exists, fsyncPath, sha256File } from './fsutil.ts';

export { sha256File };

export interface ArchiveWritten {
  file: string;
  sha256: string;
  sizeBytes: number;
}

export interface ArchiveExtracted {
  /** destDir/<top>: the snapshot directory the archive contained. */
  topDir: string;
  entries: number;
}

const tempSuffix = () => `.tmp-${randomBytes(6).toString('hex')}`;

/**
 * Write `snapshotDir` as `outFile` (gzip tar, entries under `<basename(snapshotDir)>/`, no owner or uid/gid
 * information) plus `<outFile>.sha256`. Files that are hard links of each other inside the snapshot are stored
 * once, the others as link entries. Refuses to overwrite an existing archive.
 */
export async function writeArchive(snapshotDir: string, outFile: string): Promise<ArchiveWritten> {
  const dirStat = await stat(snapshotDir).catch(() => undefined);
  if (!dirStat?.isDirectory()) throw new UsageError(`cannot export ${snapshotDir}: not a directory`);
  if (await exists(outFile)) throw new UsageError(`refusing to overwrite existing archive ${outFile}`);
  await mkdir(dirname(outFile), { recursive: true });

  const temp = `${outFile}${tempSuffix()}`;
  try {
    await pipeline(
      Readable.from(tarEntries(dirname(snapshotDir), basename(snapshotDir))),
      createGzip(),
      createWriteStream(temp, { flags: 'wx', mode: 0o644 }),
    );
    await fsyncPath(temp);
    const [sha256, { size }] = await Promise.all([sha256File(temp), stat(temp)]);
    await publishWithSidecar(temp, outFile, `${sha256}  ${basename(outFile)}\n`);
    return { file: outFile, sha256, sizeBytes: size };
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/**
 * Both files or neither: the sidecar is written (synced) under a temporary name first, then the archive is linked
 * into place, then the sidecar renamed beside it. If that last step fails, the archive we just linked is removed
 * again, so a retry starts clean instead of meeting "refusing to overwrite".
 */
async function publishWithSidecar(tempArchive: string, outFile: string, sidecarText: string): Promise<void> {
  const sidecar = `${outFile}.sha256`;
  const tempSidecar = `${sidecar}${tempSuffix()}`;
  try {
    await writeSynced(tempSidecar, sidecarText);
    // link() instead of rename(): it fails if another export created the archive meanwhile, rename would replace it.
    try {
      await link(tempArchive, outFile);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new UsageError(`refusing to overwrite existing archive ${outFile}`);
      }
      throw error;
    }
    try {
      await rename(tempSidecar, sidecar);
    } catch (error) {
      await unlink(outFile).catch(() => undefined);
      throw new BackupError(`cannot write checksum file ${sidecar} (${errorMessage(error)}); the archive was not kept, nothing was exported`, undefined, { cause: error });
    }
    await fsyncPath(dirname(outFile));
  } finally {
    await unlink(tempSidecar).catch(() => undefined);
  }
}

/**
 * The tar stream, built from tar's own Header and Pax encoders. We do not use tar.create(): its asynchronous
 * Pack defers files with more than one link (every object file of a snapshot shares its inode with the mirror)
 * and has open bugs there (isaacs/node-tar#460: hangs or a silently truncated archive; a double end of the gzip
 * stream that throws Z_STREAM_ERROR from an event handler, reproduced here with 7.5.23). Walking the tree
 * ourselves also gives a deterministic order (sorted names) and link entries that always follow their target.
 * Portable like `tar.create({ portable: true })`: no uid/gid/uname, no atime/ctime, no directory mtimes.
 */
async function* tarEntries(parent: string, top: string): AsyncGenerator<Buffer> {
  const firstPathOfInode = new Map<string, string>();

  function headerBlocks(data: HeaderData): Buffer[] {
    const header = new Header(data);
    const block = Buffer.alloc(512);
    // encode() returns true when a field does not fit the ustar header: a pax header then carries it.
    const needPax = header.encode(block, 0);
    if (!needPax) return [block];
    return [new Pax({ path: data.path, linkpath: data.linkpath, size: data.size, mtime: data.mtime }).encode(), block];
  }

  async function* walk(rel: string): AsyncGenerator<Buffer> {
    const abs = join(parent, rel);
    const st = await lstat(abs);
    const mode = st.mode & 0o7777;
    if (st.isDirectory()) {
      yield* headerBlocks({ path: `${rel}/`, type: 'Directory', mode, size: 0 });
      const names = await readdir(abs, { encoding: 'buffer' });
      const decoded = names.map((raw) => {
        const name = raw.toString('utf8');
        // tar paths are strings: a name that is not UTF-8 would come back as a different name.
        if (!Buffer.from(name, 'utf8').equals(raw)) {
          throw new BackupError(`cannot archive ${join(abs, name)}: its file name is not valid UTF-8`);
        }
        return name;
      });
      for (const name of decoded.sort()) yield* walk(`${rel}/${name}`);
    } else if (st.isSymbolicLink()) {
      yield* headerBlocks({ path: rel, type: 'SymbolicLink', linkpath: await readlink(abs), mode, size: 0 });
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? firstPathOfInode.get(key) : undefined;
      if (first !== undefined) {
        yield* headerBlocks({ path: rel, type: 'Link', linkpath: first, mode, size: 0, mtime: st.mtime });
        return;
      }
      if (st.nlink > 1) firstPathOfInode.set(key, rel);
      yield* headerBlocks({ path: rel, type: 'File', mode, size: st.size, mtime: st.mtime });
      let written = 0;
      if (st.size > 0) {
        // Exactly the bytes the header announced, even if the file grew meanwhile.
        for await (const chunk of createReadStream(abs, { end: st.size - 1 }) as AsyncIterable<Buffer>) {
          written += chunk.length;
          yield chunk;
        }
      }
      // A snapshot never changes; if this file did, the header's size would be a lie.
      if (written !== st.size) throw new BackupError(`${abs} changed size while it was being archived`);
      if (st.size % 512 !== 0) yield Buffer.alloc(512 - (st.size % 512));
    } else {
      throw new BackupError(`cannot archive ${abs}: not a regular file, directory or symlink`);
    }
  }

  yield* walk(top);
  yield Buffer.alloc(1024); // end-of-archive marker: two zero blocks
}

async function writeSynced(path: string, content: string): Promise<void> {
  const handle = await open(path, 'wx', 0o644);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The hash a sidecar records, or undefined when there is no sidecar. */
async function readSidecar(archiveFile: string): Promise<string | undefined> {
  let text: string;
  try {
    // A sha256sum line is under 200 bytes.
    text = await readTextCapped(`${archiveFile}.sha256`, 64 * 1024, 'the checksum file');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const match = /^([0-9a-f]{64}) [ *]/i.exec(text);
  if (!match) throw new BackupError(`checksum file ${archiveFile}.sha256 is malformed`);
  return match[1]!.toLowerCase();
}

// ---- entry validation --------------------------------------------------------------------------------------

const ALLOWED_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'Link', 'SymbolicLink']);

interface EntryInfo {
  path: string;
  type: string;
  linkpath?: string;
}

/**
 * Checks entries one by one as they stream past (usable both in a listing pass and in the extraction filter).
 * Collects problems instead of throwing, because tar swallows exceptions thrown from a filter.
 */
class EntryChecker {
  readonly problems: string[] = [];
  top: string | undefined;
  count = 0;
  private readonly seen = new Map<string, string>(); // normalised path -> type
  private readonly symlinks: { path: string; target: string }[] = [];

  check(entry: EntryInfo): boolean {
    this.count++;
    const problem = this.problemOf(entry);
    if (problem) this.problems.push(`${JSON.stringify(entry.path)}: ${problem}`);
    return problem === undefined;
  }

  private problemOf(entry: EntryInfo): string | undefined {
    if (!ALLOWED_TYPES.has(entry.type)) return `entry type ${entry.type} is not allowed`;
    const parts = splitPath(entry.path);
    if (typeof parts === 'string') return parts;
    const top = parts[0]!;
    this.top ??= top;
    if (top !== this.top) return `outside the single top directory ${JSON.stringify(this.top)}`;
    if (parts.length === 1 && entry.type !== 'Directory') return 'the top entry must be a directory';
    const key = parts.join('/');
    const previous = this.seen.get(key);
    if (previous !== undefined && (previous !== 'Directory' || entry.type !== 'Directory')) return 'duplicate entry';
    // Nothing may be written through a symlink or a file the archive created earlier.
    for (let i = 1; i < parts.length; i++) {
      const parentType = this.seen.get(parts.slice(0, i).join('/'));
      if (parentType !== undefined && parentType !== 'Directory') return `its parent is a ${parentType}, not a directory`;
    }

    if (entry.type === 'Link') {
      // Hard-link targets are relative to the archive root and must name a regular file already extracted.
      const target = splitPath(entry.linkpath ?? '');
      if (typeof target === 'string') return `hard link target ${JSON.stringify(entry.linkpath)}: ${target}`;
      const targetType = this.seen.get(target.join('/'));
      if (target[0] !== this.top || !targetType || !['File', 'OldFile', 'ContiguousFile'].includes(targetType)) {
        return `hard link target ${JSON.stringify(entry.linkpath)} is not a file earlier in the archive`;
      }
    }
    if (entry.type === 'SymbolicLink') {
      const target = entry.linkpath ?? '';
      if (target === '' || target.includes('\0') || target.includes('\\')) return 'symlink target is not a plain path';
      if (target.startsWith('/') || /^[A-Za-z]:/.test(target)) return `symlink target ${JSON.stringify(target)} is absolute`;
      const resolved = posix.normalize(posix.join(posix.dirname(key), target));
      if (resolved !== this.top && !resolved.startsWith(`${this.top}/`)) {
        return `symlink target ${JSON.stringify(target)} escapes the archive`;
      }
      this.symlinks.push({ path: key, target });
    }
    this.seen.set(key, entry.type);
    return undefined;
  }

  /**
   * Once every entry is known: a symlink target must not pass through another symlink (the kernel would resolve
   * "link/.." from the link's target, not lexically, and could leave the tree).
   */
  finish(): void {
    for (const { path, target } of this.symlinks) {
      const stack = posix.dirname(path).split('/');
      for (const part of target.split('/')) {
        if (part === '' || part === '.') continue;
        if (part === '..') {
          stack.pop();
          continue;
        }
        stack.push(part);
        const type = this.seen.get(stack.join('/'));
        if (type === 'SymbolicLink') {
          this.problems.push(`${JSON.stringify(path)}: symlink target ${JSON.stringify(target)} goes through another symlink`);
          break;
        }
      }
    }
    if (this.count === 0) this.problems.push('the archive is empty');
  }
}

/** Path segments of an archive entry, or a problem. Trailing slashes (directories) are fine; anything odd is not. */
function splitPath(path: string): string[] | string {
  if (path === '') return 'empty path';
  if (path.includes('\0')) return 'path contains a NUL byte';
  if (path.includes('\\')) return 'path contains a backslash';
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'absolute path';
  const parts = path.replace(/\/+$/, '').split('/');
  if (parts.some((p) => p === '..')) return 'path contains ".."';
  if (parts.some((p) => p === '' || p === '.')) return 'path is not normalised';
  return parts;
}

// ---- extraction --------------------------------------------------------------------------------------------

/**
 * Extract an archive written by writeArchive into `destDir` (absent or empty). Verifies the sidecar checksum when
 * there is one. The archive is unpacked into a temporary directory beside `destDir` that is renamed into place
 * only when every entry passed the checks; on any failure nothing is left behind.
 */
export async function extractArchive(archiveFile: string, destDir: string): Promise<ArchiveExtracted> {
  const archiveStat = await stat(archiveFile).catch(() => undefined);
  if (!archiveStat?.isFile()) throw new UsageError(`archive ${archiveFile} not found`);

  const expected = await readSidecar(archiveFile);
  if (expected !== undefined) {
    const actual = await sha256File(archiveFile);
    if (actual !== expected) {
      throw new BackupError(
        `checksum mismatch for ${archiveFile}: ${archiveFile}.sha256 records ${expected}, the archive hashes to ${actual}`,
      );
    }
  }

  if (await exists(destDir)) {
    const destStat = await stat(destDir);
    if (!destStat.isDirectory() || (await readdir(destDir)).length > 0) {
      throw new UsageError(`refusing to extract into ${destDir}: it exists and is not an empty directory`);
    }
  }

  // Pass 1: read every header before writing a byte.
  const listing = new EntryChecker();
  await runTar(archiveFile, () =>
    tar.list({ file: archiveFile, strict: true, onReadEntry: (entry) => void listing.check(entry) }),
  );
  listing.finish();
  if (listing.problems.length > 0) throw unsafe(archiveFile, listing.problems);

  // Pass 2: extract beside destDir, re-checking each entry (the file could differ from what we listed).
  await mkdir(dirname(destDir), { recursive: true });
  const temp = `${destDir}${tempSuffix()}`;
  await mkdir(temp);
  try {
    const extracting = new EntryChecker();
    await runTar(archiveFile, () =>
      tar.extract({
        file: archiveFile,
        cwd: temp,
        strict: true,
        preserveOwner: false,
        filter: (_path, entry) => {
          if (!('type' in entry)) return false; // a Stats object: never the case when extracting
          const ok = extracting.check(entry);
          // Owner always gets write access so the tree can be used (and removed) whatever modes were recorded;
          // setuid/setgid/sticky bits never survive.
          if (ok && entry.mode !== undefined) {
            entry.mode = (entry.mode & 0o777) | (entry.type === 'Directory' ? 0o700 : 0o600);
          }
          return ok;
        },
      }),
    );
    extracting.finish();
    if (extracting.problems.length > 0) throw unsafe(archiveFile, extracting.problems);
    const top = extracting.top!;
    if (extracting.count !== listing.count || top !== listing.top) {
      throw new BackupError(`archive ${archiveFile} changed while it was being extracted`);
    }
    // rename(2) replaces an empty directory atomically, so an existing empty destDir is fine.
    await rename(temp, destDir);
    return { topDir: join(destDir, top), entries: extracting.count };
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}

function unsafe(archiveFile: string, problems: string[]): BackupError {
  const shown = problems.slice(0, 10).join('; ');
  const more = problems.length > 10 ? ` (and ${problems.length - 10} more)` : '';
  return new BackupError(`refusing unsafe archive ${archiveFile}: ${shown}${more}`);
}

async function runTar(archiveFile: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (error instanceof BackupError) throw error;
    throw new BackupError(`cannot read archive ${archiveFile}: ${errorMessage(error)}`, undefined, { cause: error });
  }
}
