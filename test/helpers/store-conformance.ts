// The conformance suite every Store must pass (docs/STORE_BACKENDS.md "Conformance"), modelled on restic's backend
// test suite (internal/backend/test/tests.go): round trips, write-once, missing keys, a body that fails half way,
// large bodies, many keys, empty bodies, racing writers, unusual keys. test/store-conformance.test.ts runs it on
// each backend; other tests may call `describeStoreConformance` with their own store factory.
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { StoreNotFoundError, StoreObjectLockedError } from '../../src/errors.ts';
import { InvalidStoreKeyError } from '../../src/store/keys.ts';
import type { PutBody, Store, StoredObject } from '../../src/store/store.ts';

export interface StoreUnderTest {
  store: Store;
  /** Removes what the factory made (temporary directories, buckets' contents); servers stay up. */
  cleanup?: () => Promise<void>;
}

export interface ConformanceOptions {
  /** A fresh, empty store for each test. */
  open: () => Promise<StoreUnderTest>;
  /** Racing putOnce calls on one key: exactly one reports created (false for servers that ignore If-None-Match). */
  atomicPutOnce: boolean;
  /** Object Lock retention is enforced on delete. */
  retention: boolean;
  /** Bytes above which the backend switches to multipart (the large-body test goes past it). */
  largeBody: number;
  /** True when stored bytes differ from what was put (encryption): storedSize is then larger than the body. */
  transformsBytes?: boolean;
}

export function streamBody(bytes: Buffer, chunkSize = 64 * 1024): { size: number; open: () => Readable } {
  return {
    size: bytes.length,
    open: () => Readable.from((function* () {
      for (let at = 0; at < bytes.length; at += chunkSize) yield bytes.subarray(at, at + chunkSize);
    })()),
  };
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function readStream(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const keysOf = (objects: StoredObject[]): string[] => objects.map((o) => o.key).sort();

export function describeStoreConformance(name: string, options: ConformanceOptions): void {
  describe(`Store conformance: ${name}`, () => {
    async function withStore(test: (store: Store) => Promise<void>): Promise<void> {
      const { store, cleanup } = await options.open();
      try {
        await test(store);
      } finally {
        await cleanup?.();
      }
    }

    it('round trip: put, head, get, getStream, list, delete', () =>
      withStore(async (store) => {
        const body = Buffer.from(`hello ${randomBytes(8).toString('hex')}\n`);
        const before = Date.now();
        const put = await store.putOnce('objects/ab/abcdef', body);
        expect(put.created).toBe(true);
        if (options.transformsBytes) expect(put.storedSize).toBeGreaterThan(body.length);
        else expect(put.storedSize).toBe(body.length);

        const head = await store.head('objects/ab/abcdef');
        expect(head).not.toBeNull();
        expect(head!.key).toBe('objects/ab/abcdef');
        expect(head!.size).toBe(put.storedSize);
        // Second-granularity servers round down; allow for it and for clock skew between us and the server.
        expect(Math.abs(head!.lastModified.getTime() - before)).toBeLessThan(60_000);

        expect(await store.get('objects/ab/abcdef')).toEqual(body);
        expect(await readStream(await store.getStream('objects/ab/abcdef'))).toEqual(body);
        const listed = await collect(store.list(''));
        expect(listed.map((o) => [o.key, o.size])).toEqual([['objects/ab/abcdef', put.storedSize]]);
        // HEAD's Last-Modified has whole seconds; a listing may carry milliseconds.
        expect(Math.abs(listed[0]!.lastModified.getTime() - head!.lastModified.getTime())).toBeLessThan(2000);

        await store.delete('objects/ab/abcdef');
        expect(await store.head('objects/ab/abcdef')).toBeNull();
        expect(await collect(store.list(''))).toEqual([]);
        await expect(store.get('objects/ab/abcdef')).rejects.toBeInstanceOf(StoreNotFoundError);
      }));

    it('write-once: a second put of the same key reports created: false and leaves the object as it was', () =>
      withStore(async (store) => {
        const first = Buffer.from('first version');
        const created = await store.putOnce('manifests/o/r/snapshot-20260101-000000.json', first);
        const again = await store.putOnce('manifests/o/r/snapshot-20260101-000000.json', Buffer.from('second, longer version'));
        expect(again).toEqual({ created: false, storedSize: created.storedSize });
        const streamed = await store.putOnce('manifests/o/r/snapshot-20260101-000000.json', streamBody(Buffer.from('third')));
        expect(streamed.created).toBe(false);
        expect(await store.get('manifests/o/r/snapshot-20260101-000000.json')).toEqual(first);
      }));

    it('missing keys: get and getStream throw StoreNotFoundError, head is null, delete is a no-op', () =>
      withStore(async (store) => {
        const error = await store.get('objects/no/such').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StoreNotFoundError);
        expect((error as StoreNotFoundError).key).toBe('objects/no/such');
        expect((error as StoreNotFoundError).exitCode).toBe(10);
        await expect(store.getStream('objects/no/such')).rejects.toBeInstanceOf(StoreNotFoundError);
        expect(await store.head('objects/no/such')).toBeNull();
        await expect(store.delete('objects/no/such')).resolves.toBeUndefined();
        // A key below an existing object's name is missing too, not an error of another kind.
        await store.putOnce('objects/file', Buffer.from('x'));
        await expect(store.get('objects/file/below')).rejects.toBeInstanceOf(StoreNotFoundError);
        expect(await store.head('objects/file/below')).toBeNull();
      }));

    it('empty bodies, as bytes and as a stream', () =>
      withStore(async (store) => {
        expect((await store.putOnce('empty/bytes', Buffer.alloc(0))).created).toBe(true);
        expect((await store.putOnce('empty/stream', streamBody(Buffer.alloc(0)))).created).toBe(true);
        expect(await store.get('empty/bytes')).toEqual(Buffer.alloc(0));
        expect(await readStream(await store.getStream('empty/stream'))).toEqual(Buffer.alloc(0));
        const listed = await collect(store.list('empty/'));
        expect(keysOf(listed)).toEqual(['empty/bytes', 'empty/stream']);
        if (!options.transformsBytes) expect(listed.map((o) => o.size)).toEqual([0, 0]);
      }));

    it('a large body goes up through the multipart path and comes back byte for byte', () =>
      withStore(async (store) => {
        const large = randomBytes(options.largeBody + 1024 * 1024 + 17);
        const put = await store.putOnce('objects/pack/large.pack', streamBody(large, 1024 * 1024));
        expect(put.created).toBe(true);
        if (!options.transformsBytes) expect(put.storedSize).toBe(large.length);
        expect((await store.head('objects/pack/large.pack'))!.size).toBe(put.storedSize);
        expect(sha256(await readStream(await store.getStream('objects/pack/large.pack')))).toBe(sha256(large));
        // A Buffer body of the same size takes the same path.
        expect((await store.putOnce('objects/pack/large-buffer.pack', large)).created).toBe(true);
        expect(sha256(await store.get('objects/pack/large-buffer.pack'))).toBe(sha256(large));
      }));

    it('a body that fails half way or at its end leaves nothing behind, and the key can be written afterwards', () =>
      withStore(async (store) => {
        const failing: PutBody = {
          size: 3 * 64 * 1024,
          open: () =>
            Readable.from((async function* () {
              yield Buffer.alloc(64 * 1024, 1);
              throw new Error('disk read failed');
            })()),
        };
        await expect(store.putOnce('objects/broken', failing)).rejects.toThrow();
        expect(await store.head('objects/broken')).toBeNull();
        expect(await collect(store.list(''))).toEqual([]);
        // A body shorter than announced is refused the same way.
        await expect(store.putOnce('objects/short', { size: 100, open: () => Readable.from([Buffer.alloc(10)]) })).rejects.toThrow();
        expect(await store.head('objects/short')).toBeNull();
        // A large body whose stream fails after its last byte (how push refuses bytes that miss their sha256).
        const large = randomBytes(options.largeBody + 4096);
        const failsAtEnd: PutBody = {
          size: large.length,
          open: () =>
            streamBody(large).open().pipe(
              new Transform({ transform: (chunk: Buffer, _encoding, done) => done(null, chunk), flush: (done) => done(new Error('checksum mismatch')) }),
            ),
        };
        await expect(store.putOnce('objects/fails-at-end', failsAtEnd)).rejects.toThrow('checksum mismatch');
        expect(await store.head('objects/fails-at-end')).toBeNull();
        expect(await collect(store.list(''))).toEqual([]);
        expect((await store.putOnce('objects/broken', Buffer.from('good'))).created).toBe(true);
        expect(await store.get('objects/broken')).toEqual(Buffer.from('good'));
      }));

    it('list: many keys, each once with its size, filtered by prefix (cut anywhere)', () =>
      withStore(async (store) => {
        const expected = new Map<string, number>();
        const writes: Promise<unknown>[] = [];
        for (let i = 0; i < 60; i++) {
          const key = `objects/${(i % 6).toString(16).padStart(2, '0')}/${i.toString().padStart(4, '0')}.pack`;
          const body = randomBytes(i);
          writes.push(store.putOnce(key, body).then((r) => expected.set(key, r.storedSize)));
        }
        writes.push(store.putOnce('manifests/o/r/snapshot-20260101-000000.json', Buffer.from('{}')));
        writes.push(store.putOnce('format-version', Buffer.from('1\n')));
        await Promise.all(writes);

        const objects = await collect(store.list('objects/'));
        expect(objects).toHaveLength(60);
        expect(new Map(objects.map((o) => [o.key, o.size]))).toEqual(expected);
        expect(await collect(store.list(''))).toHaveLength(62);
        expect(keysOf(await collect(store.list('objects/03/')))).toEqual([...expected.keys()].filter((k) => k.startsWith('objects/03/')).sort());
        // A prefix that ends inside a segment matches every key that starts with it.
        expect(keysOf(await collect(store.list('objects/05/005')))).toEqual(['objects/05/0053.pack', 'objects/05/0059.pack']);
        expect(keysOf(await collect(store.list('format')))).toEqual(['format-version']);
        expect(await collect(store.list('nothing/here/'))).toEqual([]);
      }));

    it('racing putOnce calls on one key: the object is one writer’s bytes, whole', () =>
      withStore(async (store) => {
        const bodies = Array.from({ length: 8 }, (_, i) => Buffer.from(`writer ${i} ${randomBytes(2048).toString('hex')}`));
        const results = await Promise.all(bodies.map((body) => store.putOnce('locks/store', body)));
        const winners = results.filter((r) => r.created).length;
        if (options.atomicPutOnce) expect(winners).toBe(1);
        else expect(winners).toBeGreaterThanOrEqual(1);
        const stored = await store.get('locks/store');
        expect(bodies.some((body) => body.equals(stored))).toBe(true);
        expect((await store.head('locks/store'))!.size).toBe(results.find((r) => r.created)!.storedSize);
      }));

    it('unusual but valid keys round-trip; invalid keys are refused before anything is written', () =>
      withStore(async (store) => {
        const unusual = [
          'manifests/octo-org/.github/snapshot-20260101-000000.json',
          'manifests/o/repo.with.dots/x',
          'a/b-c_d.e+f=g@h,i',
          '..x/...y/.z',
          'UPPER/lower/0123456789',
          `long/${'x'.repeat(200)}`,
        ];
        for (const key of unusual) {
          expect((await store.putOnce(key, Buffer.from(key))).created).toBe(true);
          expect((await store.get(key)).toString()).toBe(key);
        }
        expect(keysOf(await collect(store.list('')))).toEqual([...unusual].sort());

        const invalid = ['', '/abs', '../up', 'a/../b', 'a/./b', 'a//b', 'trailing/', 'sp ace', 'back\\slash', 'q?x', 'h#x', 'nul\0', 'ü', `long/${'x'.repeat(201)}`];
        for (const key of invalid) {
          await expect(store.putOnce(key, Buffer.from('nope'))).rejects.toBeInstanceOf(InvalidStoreKeyError);
          await expect(store.get(key)).rejects.toBeInstanceOf(InvalidStoreKeyError);
          await expect(store.head(key)).rejects.toBeInstanceOf(InvalidStoreKeyError);
          await expect(store.delete(key)).rejects.toBeInstanceOf(InvalidStoreKeyError);
        }
        await expect(collect(store.list('../'))).rejects.toBeInstanceOf(InvalidStoreKeyError);
        expect(keysOf(await collect(store.list('')))).toEqual([...unusual].sort());
      }));

    it.runIf(options.retention)('Object Lock retention: delete inside the window fails with StoreObjectLockedError; after it, succeeds', () =>
      withStore(async (store) => {
        const future = new Date(Date.now() + 24 * 3600_000);
        const past = new Date(Date.now() - 1000);
        await store.putOnce('objects/locked', Buffer.from('keep me'), { retention: { mode: 'COMPLIANCE', until: future } });
        await store.putOnce('objects/expired', streamBody(Buffer.from('old')), { retention: { mode: 'GOVERNANCE', until: past } });
        const error = await store.delete('objects/locked').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StoreObjectLockedError);
        expect((error as StoreObjectLockedError).key).toBe('objects/locked');
        expect(await store.get('objects/locked')).toEqual(Buffer.from('keep me'));
        await store.delete('objects/expired');
        expect(await store.head('objects/expired')).toBeNull();
      }));
  });
}
