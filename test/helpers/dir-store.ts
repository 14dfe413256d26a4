// A small directory-backed Store for the format tests: real files, atomic write-once (link() refuses an existing
// key), Object Lock retention kept beside each object and enforced on delete, and a count of every call so tests
// can assert on the requests a push makes. Usable from a child process (the kill -9 test).
import { createWriteStream } from 'node:fs';
import { link, lstat, mkdir, readFile, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { StoreNotFoundError, StoreObjectLockedError } from '../../src/errors.ts';
import type { PutBody, PutOnceOptions, PutOnceResult, Store, StoredObject } from '../../src/store/store.ts';

export type StoreCall = 'putOnce' | 'get' | 'getStream' | 'head' | 'list' | 'delete';

const DATA = 'data';
const RETENTION = 'retention';
const TMP = 'tmp';

export class TestDirStore implements Store {
  readonly location: string;
  readonly calls: Array<{ op: StoreCall; key: string }> = [];
  /** Milliseconds each putOnce waits before writing (a slow network, for the kill -9 test). */
  putDelayMs = 0;
  now: () => Date = () => new Date();

  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
    this.location = `file://${dir}`;
  }

  private path(key: string): string {
    if (!/^[A-Za-z0-9._/-]+$/.test(key) || key.split('/').some((s) => s === '' || s === '.' || s === '..')) throw new Error(`bad key ${key}`);
    return join(this.dir, DATA, key);
  }

  count(op?: StoreCall): number {
    return op ? this.calls.filter((c) => c.op === op).length : this.calls.length;
  }

  async putOnce(key: string, body: PutBody, options: PutOnceOptions = {}): Promise<PutOnceResult> {
    this.calls.push({ op: 'putOnce', key });
    const target = this.path(key);
    if (this.putDelayMs) await new Promise((r) => setTimeout(r, this.putDelayMs));
    const existing = await lstat(target).catch(() => null);
    if (existing) return { created: false, storedSize: existing.size };
    await mkdir(join(this.dir, TMP), { recursive: true });
    const tmp = join(this.dir, TMP, randomBytes(8).toString('hex'));
    try {
      if (Buffer.isBuffer(body)) await writeFile(tmp, body);
      else await pipeline(body.open(), createWriteStream(tmp));
      await mkdir(dirname(target), { recursive: true });
      if (options.retention) {
        const side = join(this.dir, RETENTION, key);
        await mkdir(dirname(side), { recursive: true });
        await writeFile(side, JSON.stringify({ mode: options.retention.mode, until: options.retention.until.toISOString() }));
      }
      try {
        await link(tmp, target);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') return { created: false, storedSize: (await lstat(target)).size };
        throw error;
      }
      return { created: true, storedSize: (await lstat(target)).size };
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async get(key: string): Promise<Buffer> {
    this.calls.push({ op: 'get', key });
    try {
      return await readFile(this.path(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new StoreNotFoundError(this.location, key);
      throw error;
    }
  }

  async getStream(key: string): Promise<Readable> {
    this.calls.push({ op: 'getStream', key });
    const path = this.path(key);
    if (!(await lstat(path).catch(() => null))) throw new StoreNotFoundError(this.location, key);
    return createReadStream(path);
  }

  async head(key: string): Promise<StoredObject | null> {
    this.calls.push({ op: 'head', key });
    const st = await lstat(this.path(key)).catch(() => null);
    return st ? { key, size: st.size, lastModified: st.mtime } : null;
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    this.calls.push({ op: 'list', key: prefix });
    const root = join(this.dir, DATA);
    const out: StoredObject[] = [];
    const walk = async (dir: string, rel: string) => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        const key = rel ? `${rel}/${entry.name}` : entry.name;
        if (entry.isDirectory()) {
          if (prefix.startsWith(`${key}/`) || key.startsWith(prefix) || `${key}/`.startsWith(prefix)) await walk(join(dir, entry.name), key);
        } else if (key.startsWith(prefix)) {
          const st = await lstat(join(dir, entry.name));
          out.push({ key, size: st.size, lastModified: st.mtime });
        }
      }
    };
    await walk(root, '');
    yield* out;
  }

  async delete(key: string): Promise<void> {
    this.calls.push({ op: 'delete', key });
    const side = join(this.dir, RETENTION, key);
    const retention = await readFile(side, 'utf8').catch(() => null);
    if (retention && new Date((JSON.parse(retention) as { until: string }).until) > this.now()) {
      throw new StoreObjectLockedError(this.location, key);
    }
    await unlink(this.path(key)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    await rm(side, { force: true });
  }

  /** The stored bytes of `key`, read directly (for tampering and assertions). */
  filePath(key: string): string {
    return this.path(key);
  }
}
