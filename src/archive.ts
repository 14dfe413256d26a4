// Export and import of a snapshot as a gzip tar (npm `tar` v7). An archive is complete or absent (temp file,
// fsync, link into place) and carries a sha256sum sidecar; its first entry after the top directory is
// snapshot.json. Extraction trusts nothing in the archive: in one streaming pass, every entry is checked against a
// strict shape (one top directory, no absolute paths, no "..", no links leaving the tree, no devices) and against
// caps on bytes, entries and depth (src/archive-limits.ts) before any of it is written, and the result appears at
// its final path only once everything succeeded.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, link, lstat, mkdir, open, readdir, readlink, rename, rm, stat, statfs, symlink, unlink } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import * as tar from 'tar';
import { Header, Pax, type HeaderData } from 'tar';
import { byteCeiling, fixedLimits, limitsFromMetadata, lowered, type Ceiling, type ExtractLimits } from './archive-limits.ts';
import { formatCount, readTextCapped } from './bounded-read.ts';
import { BackupError, UsageError, errorMessage } from './errors.ts';
import { exists, fsyncPath, sha256File } from './fsutil.ts';
import { MAX_METADATA_BYTES, parseMetadata } from './metadata.ts';
import { METADATA_FILE } from './snapshot-files.ts';

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
      // snapshot.json first: extraction sets its caps from it before any other file (src/archive-limits.ts).
      const ordered = decoded.sort((a, b) => Number(rel === top && b === METADATA_FILE) - Number(rel === top && a === METADATA_FILE) || (a < b ? -1 : a > b ? 1 : 0));
      for (const name of ordered) yield* walk(`${rel}/${name}`);
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

/**
 * An archive already at `archiveFile` whose sidecar verifies (the hash it records is the file's): what a repeated
 * export of the same snapshot would have written. Null when either file is missing or they disagree.
 */
export async function verifiedExistingArchive(archiveFile: string): Promise<ArchiveWritten | null> {
  const recorded = await readSidecar(archiveFile).catch(() => undefined);
  if (!recorded) return null;
  const [actual, info] = await Promise.all([sha256File(archiveFile).catch(() => null), stat(archiveFile).catch(() => null)]);
  return actual === recorded && info ? { file: archiveFile, sha256: actual, sizeBytes: info.size } : null;
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
 * Checks entries one by one as they stream past; collects problems, and the extraction stops at the first.
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

export type ExtractCaps = Partial<Pick<ExtractLimits, 'maxBytes' | 'maxEntries' | 'maxDepth'>>;

/**
 * Extract an archive written by writeArchive into `destDir` (absent or empty), in one streaming pass into a staging
 * directory beside it that is renamed into place only when every entry passed the checks and the caps
 * (src/archive-limits.ts); on any failure nothing is left behind. Verifies the sidecar checksum when there is one,
 * before extracting and again over the very bytes extracted. `caps` can only lower the computed limits.
 */
export async function extractArchive(archiveFile: string, destDir: string, caps: ExtractCaps = {}): Promise<ArchiveExtracted> {
  const archiveStat = await stat(archiveFile).catch(() => undefined);
  if (!archiveStat?.isFile()) throw new UsageError(`archive ${archiveFile} not found`);

  const expected = await readSidecar(archiveFile);
  if (expected !== undefined) {
    const actual = await sha256File(archiveFile);
    if (actual !== expected) throw checksumMismatch(archiveFile, expected, actual);
  }

  if (await exists(destDir)) {
    const destStat = await stat(destDir);
    if (!destStat.isDirectory() || (await readdir(destDir)).length > 0) {
      throw new UsageError(`refusing to extract into ${destDir}: it exists and is not an empty directory`);
    }
  }

  await mkdir(dirname(destDir), { recursive: true });
  const space = await statfs(dirname(destDir));
  const ceiling = byteCeiling(archiveStat.size, space.bavail * space.bsize, dirname(destDir));
  const temp = `${destDir}${tempSuffix()}`;
  await mkdir(temp);
  try {
    const extraction = new Extraction(archiveFile, temp, ceiling, caps);
    const sha256 = await extraction.run();
    if (expected !== undefined && sha256 !== expected) throw checksumMismatch(archiveFile, expected, sha256);
    // rename(2) replaces an empty directory atomically, so an existing empty destDir is fine.
    await rename(temp, destDir);
    return { topDir: join(destDir, extraction.top), entries: extraction.entries };
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}

function checksumMismatch(archiveFile: string, expected: string, actual: string): BackupError {
  return new BackupError(`checksum mismatch for ${archiveFile}: ${archiveFile}.sha256 records ${expected}, the archive hashes to ${actual}`);
}

/**
 * One pass over the archive: each entry is checked (shape, then caps) before anything of it is written, then
 * written by us with plain fs calls into the staging directory. Nothing is ever written through a link: the
 * checker refuses entries below a symlink or file, files are created with O_EXCL, and hard links name files
 * extracted earlier.
 */
class Extraction {
  private readonly checker = new EntryChecker();
  private readonly archiveFile: string;
  private readonly staging: string;
  private readonly ceiling: Ceiling;
  private readonly caps: ExtractCaps;
  private limits: ExtractLimits;
  private bytes = 0;
  private failure: unknown;
  private queue: Promise<void> = Promise.resolve();

  constructor(archiveFile: string, staging: string, ceiling: Ceiling, caps: ExtractCaps) {
    this.archiveFile = archiveFile;
    this.staging = staging;
    this.ceiling = ceiling;
    this.caps = caps;
    // Until snapshot.json (the entry after the top directory) says otherwise.
    this.limits = lowered(fixedLimits(ceiling), caps);
  }

  get top(): string {
    return this.checker.top!;
  }

  get entries(): number {
    return this.checker.count;
  }

  /**
   * Extract everything; resolves to the sha256 of the bytes read. The archive is fed to the parser by hand, waiting
   * whenever it holds entries we have not written yet, so each entry's header is judged before the parser reads
   * far past it, and the end of the input (a truncated bomb) is only reported once every entry before it was seen.
   */
  async run(): Promise<string> {
    const hash = createHash('sha256');
    const parser = new tar.Parser({ strict: true });
    let parserError: unknown;
    let stop!: () => void;
    const stopped = new Promise<void>((resolveStopped) => (stop = resolveStopped));
    parser.on('error', (error: unknown) => {
      parserError ??= error;
      stop();
    });
    parser.on('entry', (entry: tar.ReadEntry) => {
      this.queue = this.queue.then(async () => {
        if (this.failure !== undefined) return void entry.resume();
        try {
          await this.extract(entry);
        } catch (error) {
          this.failure = error;
          entry.resume();
          stop();
        }
      });
    });
    const drained = () => Promise.race([new Promise<void>((resolveDrained) => parser.once('drain', () => resolveDrained())), stopped]);
    const ended = Promise.race([new Promise<void>((resolveEnded) => parser.once('end', () => resolveEnded())), stopped]);
    const failed = () => this.failure !== undefined || parserError !== undefined;
    const source = createReadStream(this.archiveFile);
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        hash.update(chunk);
        if (!parser.write(chunk)) await drained();
        if (failed()) break;
      }
      if (!failed()) {
        parser.end();
        await ended;
      }
    } catch (error) {
      parserError ??= error;
    } finally {
      source.destroy();
    }
    // Entries keep arriving while earlier ones finish: wait until the chain stops growing.
    for (let settled = this.queue; ; settled = this.queue) {
      await settled;
      if (settled === this.queue) break;
    }
    if (this.failure instanceof BackupError) throw this.failure;
    if (this.failure !== undefined) {
      // A filesystem error while writing (no space, an entry colliding with a directory made for an earlier one).
      throw new BackupError(`cannot extract archive ${this.archiveFile}: ${errorMessage(this.failure)}; nothing was kept`, undefined, { cause: this.failure });
    }
    if (parserError !== undefined) {
      throw new BackupError(`cannot read archive ${this.archiveFile}: ${errorMessage(parserError)}`, undefined, { cause: parserError });
    }
    this.checker.finish();
    if (this.checker.problems.length > 0) throw unsafe(this.archiveFile, this.checker.problems);
    return hash.digest('hex');
  }

  private refuse(problem: string): BackupError {
    return new BackupError(`refusing archive ${this.archiveFile}: ${problem}; nothing was kept`);
  }

  private async extract(entry: tar.ReadEntry): Promise<void> {
    const { limits } = this;
    if (this.checker.count >= limits.maxEntries) {
      throw this.refuse(`it has more than ${formatCount(limits.maxEntries)} entries (${limits.entriesSource})`);
    }
    if (!this.checker.check(entry)) throw unsafe(this.archiveFile, this.checker.problems);
    const parts = splitPath(entry.path) as string[];
    if (parts.length > limits.maxDepth) {
      throw this.refuse(`${JSON.stringify(entry.path)} is ${parts.length} levels deep, over the limit of ${limits.maxDepth} (${limits.depthSource})`);
    }
    const size = isFileType(entry.type) ? entry.size : 0;
    if (this.bytes + size > limits.maxBytes) {
      throw this.refuse(
        `${JSON.stringify(entry.path)} claims ${formatCount(size)} bytes, over the limit of ${formatCount(limits.maxBytes)} bytes (${limits.bytesSource}) after the ${formatCount(this.bytes)} bytes extracted before it`,
      );
    }

    const abs = join(this.staging, ...parts);
    // Owner always gets write access so the tree can be used (and removed) whatever modes were recorded;
    // setuid/setgid/sticky bits never survive.
    const mode = (entry.mode ?? 0) & 0o777;
    if (entry.type === 'Directory') {
      await mkdir(abs, { recursive: true });
      await chmod(abs, mode | 0o700);
      return void entry.resume();
    }
    await mkdir(dirname(abs), { recursive: true });
    if (entry.type === 'SymbolicLink') {
      await symlink(entry.linkpath!, abs);
      return void entry.resume();
    }
    if (entry.type === 'Link') {
      await link(join(this.staging, ...(splitPath(entry.linkpath!) as string[])), abs);
      return void entry.resume();
    }
    const isMetadata = this.checker.count === 2 && parts.length === 2 && parts[1] === METADATA_FILE;
    const kept: Buffer[] = [];
    const handle = await open(abs, 'wx', 0o600);
    try {
      let written = 0;
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        written += chunk.length;
        // The header said how much follows and the parser holds to it; counting again costs nothing.
        if (written > size) throw this.refuse(`${JSON.stringify(entry.path)} holds more than the ${formatCount(size)} bytes its header claims`);
        if (isMetadata) kept.push(chunk);
        await handle.write(chunk);
      }
      this.bytes += written;
      await handle.chmod(mode | 0o600);
      if (entry.mtime) await handle.utimes(entry.mtime, entry.mtime);
    } finally {
      await handle.close();
    }
    if (isMetadata) this.adoptMetadata(Buffer.concat(kept), entry.path);
  }

  /** snapshot.json came first: its record of the snapshot sets the caps for the rest. */
  private adoptMetadata(bytes: Buffer, path: string): void {
    if (bytes.length > MAX_METADATA_BYTES) {
      throw this.refuse(`${JSON.stringify(path)} is ${formatCount(bytes.length)} bytes, over the ${formatCount(MAX_METADATA_BYTES)}-byte limit for snapshot metadata`);
    }
    let metadata;
    try {
      metadata = parseMetadata(bytes.toString('utf8'), path);
    } catch {
      return; // not usable metadata: the fixed caps stay (restore verifies the snapshot.json it extracts)
    }
    this.limits = lowered(limitsFromMetadata(metadata, bytes.length, this.ceiling), this.caps);
    if (this.bytes > this.limits.maxBytes) {
      throw this.refuse(`its snapshot.json alone exceeds the limit of ${formatCount(this.limits.maxBytes)} bytes (${this.limits.bytesSource})`);
    }
  }
}

const isFileType = (type: string) => type === 'File' || type === 'OldFile' || type === 'ContiguousFile';

function unsafe(archiveFile: string, problems: string[]): BackupError {
  const shown = problems.slice(0, 10).join('; ');
  const more = problems.length > 10 ? ` (and ${problems.length - 10} more)` : '';
  return new BackupError(`refusing unsafe archive ${archiveFile}: ${shown}${more}`);
}
