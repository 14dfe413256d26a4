// A Store in a local directory: a NAS mount, a second disk, the tests (docs/STORE_BACKENDS.md "Local directory").
// Writes are atomic and write-once: the body goes to a temporary file that is fsynced, then link(2) gives it its
// name, and link fails rather than replace an existing key. A crash leaves at most a temporary file in #incoming/.
// Object Lock is emulated with a retention file beside the object, so prune's behaviour can be rehearsed offline.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { dirname, join, sep } from 'node:path';
import { BackupError, StoreNotFoundError, StoreObjectLockedError } from '../errors.ts';
import { fsyncPath } from '../fsutil.ts';
import { assertValidKey, assertValidPrefix, keyProblem } from './keys.ts';
import type { ObjectRetention, PutBody, PutOnceOptions, PutOnceResult, Store, StoredObject } from './store.ts';

/** Temporary files live here; `#` cannot appear in a key, so this never collides with an object. */
const INCOMING = '#incoming';
const RETENTION_SUFFIX = '#retention';

export class LocalDirStore implements Store {
  readonly location: string;
  private readonly root: string;
  private readonly now: () => Date;
  /** Leftovers of writers that crashed are removed once per instance, on its first write. */
  private swept: Promise<void> | undefined;

  constructor(root: string, options: { clock?: () => Date } = {}) {
    this.root = root;
    this.location = `file://${root}`;
    this.now = options.clock ?? (() => new Date());
  }

  async putOnce(key: string, body: PutBody, options: PutOnceOptions = {}): Promise<PutOnceResult> {
    const path = this.pathOf(key);
    const existing = await this.statObject(path);
    if (existing) return { created: false, storedSize: existing.size };
    const incoming = join(this.root, INCOMING);
    await mkdir(incoming, { recursive: true });
    this.swept ??= sweepStale(incoming, this.now());
    await this.swept;
    const temp = join(incoming, `${randomBytes(12).toString('hex')}.partial`);
    try {
      const size = await writeDurably(temp, body);
      if (options.retention) await this.writeRetention(path, options.retention);
      await mkdir(dirname(path), { recursive: true });
      try {
        await link(temp, path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        // Another writer won the race; its object stays as it is.
        return { created: false, storedSize: (await stat(path)).size };
      }
      await fsyncPath(dirname(path));
      return { created: true, storedSize: size };
    } finally {
      await rm(temp, { force: true });
    }
  }

  async get(key: string): Promise<Buffer> {
    const path = this.pathOf(key);
    try {
      return await readFile(path);
    } catch (error) {
      throw this.readError(error, key);
    }
  }

  async getStream(key: string): Promise<Readable> {
    // Open first, so a missing key fails here and not later inside the stream.
    const handle = await open(this.pathOf(key), 'r').catch((error: unknown) => {
      throw this.readError(error, key);
    });
    return handle.createReadStream();
  }

  async head(key: string): Promise<StoredObject | null> {
    const found = await this.statObject(this.pathOf(key));
    return found ? { key, ...found } : null;
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    assertValidPrefix(prefix);
    // Start at the deepest directory the prefix names whole; the rest of it filters names below.
    const cut = prefix.lastIndexOf('/');
    const startRel = cut < 0 ? '' : prefix.slice(0, cut);
    yield* this.walk(startRel, prefix);
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    const retention = await this.readRetention(path);
    if (retention && retention.until.getTime() > this.now().getTime() && (await this.statObject(path))) {
      throw new StoreObjectLockedError(this.location, key);
    }
    try {
      await unlink(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw this.readError(error, key);
    }
    await rm(path + RETENTION_SUFFIX, { force: true });
  }

  private pathOf(key: string): string {
    assertValidKey(key);
    return join(this.root, ...key.split('/'));
  }

  private async statObject(path: string): Promise<{ size: number; lastModified: Date } | null> {
    try {
      const st = await stat(path);
      return st.isFile() ? { size: st.size, lastModified: st.mtime } : null;
    } catch (error) {
      if (['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) return null;
      throw error;
    }
  }

  private async *walk(relDir: string, prefix: string): AsyncIterable<StoredObject> {
    let entries;
    try {
      entries = await readdir(relDir ? join(this.root, ...relDir.split('/')) : this.root, { withFileTypes: true });
    } catch (error) {
      if (['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) return;
      throw error;
    }
    for (const entry of entries) {
      const key = relDir ? `${relDir}/${entry.name}` : entry.name;
      // Names that are not keys (temporary and retention files) are this backend's own.
      if (keyProblem(key) !== null) continue;
      if (entry.isDirectory()) {
        if (prefix.startsWith(`${key}/`) || key.startsWith(prefix)) yield* this.walk(key, prefix);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        const found = await this.statObject(join(this.root, ...key.split('/')));
        if (found) yield { key, ...found };
      }
    }
  }

  private async writeRetention(path: string, retention: ObjectRetention): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    const file = path + RETENTION_SUFFIX;
    // Never shorten a retention already set (as S3 COMPLIANCE mode forbids).
    const current = await this.readRetention(path);
    if (current && current.until >= retention.until) return;
    await writeFile(file, JSON.stringify({ mode: retention.mode, until: retention.until.toISOString() }));
  }

  private async readRetention(path: string): Promise<ObjectRetention | null> {
    try {
      const parsed = JSON.parse(await readFile(path + RETENTION_SUFFIX, 'utf8')) as { mode: ObjectRetention['mode']; until: string };
      return { mode: parsed.mode, until: new Date(parsed.until) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      // An unreadable retention file keeps the object: refusing a delete is the safe side.
      return { mode: 'COMPLIANCE', until: new Date(8.64e15) };
    }
  }

  private readError(error: unknown, key: string): Error {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return new StoreNotFoundError(this.location, key);
    return new BackupError(`${this.location}: cannot read ${key}: ${(error as Error).message.split(this.root + sep).join('')}`, undefined, { cause: error });
  }
}

/** A temporary file this old belongs to no live writer: no single put takes a day. */
const STALE_MS = 24 * 3600_000;

async function sweepStale(incoming: string, now: Date): Promise<void> {
  for (const name of await readdir(incoming).catch(() => [] as string[])) {
    const path = join(incoming, name);
    const st = await stat(path).catch(() => null);
    if (st && now.getTime() - st.mtimeMs > STALE_MS) await rm(path, { force: true });
  }
}

/** Write the whole body to `path` and fsync it; returns the bytes written. The file ends read-only. */
async function writeDurably(path: string, body: PutBody): Promise<number> {
  if (Buffer.isBuffer(body)) {
    const handle = await open(path, 'wx', 0o444);
    try {
      await handle.writeFile(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return body.length;
  }
  const out = createWriteStream(path, { flags: 'wx', mode: 0o444 });
  let written = 0;
  const source = body.open();
  source.on('data', (chunk: Buffer) => {
    written += chunk.length;
  });
  await pipeline(source, out);
  if (written !== body.size) {
    throw new BackupError(`body for the store ended after ${written} bytes; ${body.size} were announced`);
  }
  // A read-only descriptor is enough for fsync, so the 0444 mode is no obstacle.
  await fsyncPath(path);
  return written;
}

/** This backend's private names, for tests that inspect its layout. */
export const LOCAL_STORE_INTERNALS = { INCOMING, RETENTION_SUFFIX };
