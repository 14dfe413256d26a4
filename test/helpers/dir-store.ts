// The real local-directory store (src/store/local-store.ts) with a record of every call, so format tests can assert
// on the requests a push makes, and an optional delay before each write (a slow network, for the kill -9 test).
// Usable from a child process.
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { LocalDirStore } from '../../src/store/local-store.ts';
import type { PutBody, PutOnceOptions, PutOnceResult, Store, StoredObject } from '../../src/store/store.ts';

export type StoreCall = 'putOnce' | 'get' | 'getStream' | 'head' | 'list' | 'delete';

export class TestDirStore implements Store {
  readonly location: string;
  readonly dir: string;
  readonly calls: Array<{ op: StoreCall; key: string }> = [];
  /** Milliseconds each putOnce waits before writing. */
  putDelayMs = 0;
  private readonly inner: LocalDirStore;

  constructor(dir: string) {
    this.dir = dir;
    this.inner = new LocalDirStore(dir);
    this.location = this.inner.location;
  }

  /** Where the directory store keeps `key` (to tamper with it or age it in a test). */
  filePath(key: string): string {
    return join(this.dir, ...key.split('/'));
  }

  async putOnce(key: string, body: PutBody, options?: PutOnceOptions): Promise<PutOnceResult> {
    this.calls.push({ op: 'putOnce', key });
    if (this.putDelayMs) await new Promise((r) => setTimeout(r, this.putDelayMs));
    return this.inner.putOnce(key, body, options);
  }

  get(key: string): Promise<Buffer> {
    this.calls.push({ op: 'get', key });
    return this.inner.get(key);
  }

  getStream(key: string): Promise<Readable> {
    this.calls.push({ op: 'getStream', key });
    return this.inner.getStream(key);
  }

  head(key: string): Promise<StoredObject | null> {
    this.calls.push({ op: 'head', key });
    return this.inner.head(key);
  }

  list(prefix: string): AsyncIterable<StoredObject> {
    this.calls.push({ op: 'list', key: prefix });
    return this.inner.list(prefix);
  }

  delete(key: string): Promise<void> {
    this.calls.push({ op: 'delete', key });
    return this.inner.delete(key);
  }
}
