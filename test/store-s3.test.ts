// What S3Store puts on the wire, proved on the requests the recording proxy in front of s3rver received:
// conditional writes, Object Lock headers and checksums, multipart, pagination, no credentials in URLs, no
// aws-chunked framing; and its answers to the errors real servers give (missing bucket, bad keys, no credentials).
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { BackupError, StoreObjectLockedError } from '../src/errors.ts';
import { S3Store, createS3Client } from '../src/store/s3-store.ts';
import { S3RVER_ACCESS_KEY_ID, startS3StandIn, versionIdFor, type RecordedS3Request, type S3StandIn } from './helpers/s3-standin.ts';
import { collect, streamBody } from './helpers/store-conformance.ts';

const PART = 5 * 1024 * 1024;
const secret = `s3-test-secret-${randomBytes(12).toString('hex')}`;
let s3: S3StandIn;
let savedEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  savedEnv = { ...process.env };
  process.env.AWS_ACCESS_KEY_ID = S3RVER_ACCESS_KEY_ID;
  process.env.AWS_SECRET_ACCESS_KEY = secret;
  s3 = await startS3StandIn({ versioned: true });
});

afterAll(async () => {
  await s3?.close();
  process.env = savedEnv;
});

let prefix: string;
beforeEach(() => {
  prefix = `t-${randomBytes(5).toString('hex')}`;
  s3.requests.length = 0;
});

const ofKey = (key: string) => (r: RecordedS3Request) => r.path === `/backups/${prefix}/${key}`;
const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('base64');

describe('S3Store on the wire', () => {
  it('a small put: HEAD first, then one PutObject with If-None-Match: *, Content-MD5 and no aws-chunked framing', async () => {
    const store = s3.store(prefix);
    const body = Buffer.from('small object');
    await store.putOnce('objects/aa/small', body);
    const requests = s3.requests.filter(ofKey('objects/aa/small'));
    expect(requests.map((r) => `${r.method} ${r.status}`)).toEqual(['HEAD 404', 'PUT 200']);
    const put = requests[1]!;
    expect(put.headers['if-none-match']).toBe('*');
    expect(put.headers['content-md5']).toBe(md5(body));
    expect(put.headers['content-length']).toBe(String(body.length));
    expect(put.headers['content-encoding']).toBeUndefined();
    expect(put.headers['x-amz-content-sha256']).not.toMatch(/STREAMING/);
    expect(put.body).toEqual(body);
    // What s3rver stored is the body itself, not a framed stream.
    expect(s3.objectBytes(`${prefix}/objects/aa/small`)).toEqual(body);
  });

  it('a second put of an existing key costs one HEAD and uploads nothing', async () => {
    const store = s3.store(prefix);
    await store.putOnce('objects/aa/once', Buffer.from('v1'));
    s3.requests.length = 0;
    expect(await store.putOnce('objects/aa/once', Buffer.from('v2'))).toEqual({ created: false, storedSize: 2 });
    expect(s3.requests.map((r) => r.method)).toEqual(['HEAD']);
  });

  it('a lost race is answered by 412 from If-None-Match, and the winner’s object stays', async () => {
    const store = s3.store(prefix);
    // Hold every writer's HEAD until all four have asked, so all of them see "absent" and race on the PUT.
    let release!: () => void;
    const allAsked = new Promise<void>((resolve) => (release = resolve));
    let heads = 0;
    s3.beforeHandle = async (r) => {
      if (r.method !== 'HEAD' || !ofKey('locks/store')(r)) return;
      if (++heads === 4) release();
      await allAsked;
    };
    const results = await Promise.all(['a', 'b', 'c', 'd'].map((v) => store.putOnce('locks/store', Buffer.from(`owner ${v}`)))).finally(
      () => (s3.beforeHandle = undefined),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const puts = s3.requests.filter((r) => r.method === 'PUT' && ofKey('locks/store')(r));
    expect(puts.map((r) => r.status).sort()).toEqual([200, 412, 412, 412]);
    const winner = puts.find((r) => r.status === 200)!;
    expect(await store.get('locks/store')).toEqual(winner.body);
  });

  it('Object Lock: mode and retain-until date on PutObject, with the Content-MD5 S3 demands for it', async () => {
    const store = s3.store(prefix);
    const until = new Date('2027-03-01T12:00:00Z');
    const body = Buffer.from('retained');
    await store.putOnce('objects/bb/locked', body, { retention: { mode: 'COMPLIANCE', until } });
    const put = s3.requests.find((r) => r.method === 'PUT' && ofKey('objects/bb/locked')(r))!;
    expect(put.headers['x-amz-object-lock-mode']).toBe('COMPLIANCE');
    expect(new Date(put.headers['x-amz-object-lock-retain-until-date'] as string).toISOString()).toBe(until.toISOString());
    expect(put.headers['content-md5']).toBe(md5(body));
    // Without retention, no Object Lock header is sent at all (a bucket without Object Lock would refuse it).
    await store.putOnce('objects/bb/plain', Buffer.from('plain'));
    const plain = s3.requests.find((r) => r.method === 'PUT' && ofKey('objects/bb/plain')(r))!;
    expect(Object.keys(plain.headers).filter((h) => h.startsWith('x-amz-object-lock'))).toEqual([]);
  });

  it('a large body goes up as a multipart upload; with Object Lock every part carries a checksum', async () => {
    const store = s3.store(prefix, { partSize: PART });
    const large = randomBytes(2 * PART + 12345);
    const until = new Date(Date.now() + 86400_000);
    await store.putOnce('objects/cc/large', streamBody(large), { retention: { mode: 'GOVERNANCE', until } });
    const requests = s3.requests.filter(ofKey('objects/cc/large'));
    const create = requests.find((r) => r.method === 'POST' && r.query.has('uploads'))!;
    const parts = requests.filter((r) => r.method === 'PUT' && r.query.has('partNumber'));
    const complete = requests.find((r) => r.method === 'POST' && r.query.has('uploadId'))!;
    expect(create.headers['x-amz-object-lock-mode']).toBe('GOVERNANCE');
    expect(create.headers['x-amz-object-lock-retain-until-date']).toBeDefined();
    const sizes = new Map(parts.map((p) => [Number(p.query.get('partNumber')), p.bodyBytes]));
    expect([...sizes].sort(([a], [b]) => a - b)).toEqual([[1, PART], [2, PART], [3, 12345]]);
    for (const part of parts) {
      expect(part.headers['x-amz-checksum-crc32']).toMatch(/^[A-Za-z0-9+/]{6}==$/);
      expect(part.headers['content-encoding']).toBeUndefined();
    }
    expect(complete.headers['if-none-match']).toBe('*');
    expect(createHash('sha256').update(s3.objectBytes(`${prefix}/objects/cc/large`)!).digest('hex')).toBe(createHash('sha256').update(large).digest('hex'));
  });

  it('a multipart body that fails at its very end is aborted: no object, no upload left behind', async () => {
    const store = s3.store(prefix, { partSize: PART });
    const bytes = randomBytes(PART + 1000);
    const failing = {
      size: bytes.length,
      open: () =>
        // Like push's sha256 check: every byte passes, then the stream fails instead of ending.
        streamBody(bytes).open().pipe(
          new Transform({
            transform: (chunk: Buffer, _encoding, done) => done(null, chunk),
            flush: (done) => done(new BackupError('checksum mismatch at the end')),
          }),
        ),
    };
    await expect(store.putOnce('objects/dd/bad', failing)).rejects.toThrow('checksum mismatch at the end');
    expect(await store.head('objects/dd/bad')).toBeNull();
    expect(s3.requests.some((r) => r.method === 'POST' && r.query.has('uploadId'))).toBe(false);
  });

  it('list pages through ListObjectsV2 with continuation tokens', async () => {
    const store = s3.store(prefix, { listPageSize: 10 });
    await Promise.all(Array.from({ length: 23 }, (_, i) => store.putOnce(`objects/ee/${String(i).padStart(3, '0')}`, Buffer.from([i]))));
    s3.requests.length = 0;
    const listed = await collect(store.list('objects/'));
    expect(listed.map((o) => o.key)).toEqual(Array.from({ length: 23 }, (_, i) => `objects/ee/${String(i).padStart(3, '0')}`));
    const lists = s3.requests.filter((r) => r.method === 'GET');
    expect(lists).toHaveLength(3);
    expect(lists.map((r) => r.query.get('list-type'))).toEqual(['2', '2', '2']);
    expect(lists.map((r) => r.query.get('prefix'))).toEqual([`${prefix}/objects/`, `${prefix}/objects/`, `${prefix}/objects/`]);
    expect(lists[0]!.query.has('continuation-token')).toBe(false);
    expect(lists[1]!.query.get('continuation-token')).toBeTruthy();
    expect(lists[2]!.query.get('continuation-token')).toBeTruthy();
  });

  it('list skips objects that other tools put under the prefix and that are not valid keys', async () => {
    const store = s3.store(prefix);
    await store.putOnce('objects/ii/ours', Buffer.from('ours'));
    const client = createS3Client(s3.storeOptions());
    for (const foreign of [`${prefix}/objects/ii/with space.txt`, `${prefix}/objects/ii/ümlaut`, `${prefix}/objects/ii/h#sh`]) {
      await client.send(new PutObjectCommand({ Bucket: 'backups', Key: foreign, Body: Buffer.from('foreign') }));
    }
    expect((await collect(store.list('objects/'))).map((o) => o.key)).toEqual(['objects/ii/ours']);
  });

  it('stores under different prefixes of one bucket do not see each other', async () => {
    const a = s3.store(`${prefix}/a`);
    const b = s3.store(`${prefix}/ab`);
    await a.putOnce('k', Buffer.from('a'));
    await b.putOnce('k', Buffer.from('b'));
    expect((await collect(a.list(''))).map((o) => o.key)).toEqual(['k']);
    expect((await a.get('k')).toString()).toBe('a');
    expect((await b.get('k')).toString()).toBe('b');
  });

  it('delete in a versioned bucket deletes the version itself (a plain DELETE would only hide it)', async () => {
    const store = s3.store(prefix);
    await store.putOnce('objects/ff/old', Buffer.from('old'));
    await store.delete('objects/ff/old');
    const del = s3.requests.find((r) => r.method === 'DELETE' && ofKey('objects/ff/old')(r))!;
    expect(del.query.get('versionId')).toBe(versionIdFor(`/backups/${prefix}/objects/ff/old`));
    expect(await store.head('objects/ff/old')).toBeNull();
  });

  it('delete of an object under retention: 403 from S3 becomes StoreObjectLockedError, and the object stays', async () => {
    const store = s3.store(prefix);
    await store.putOnce('objects/gg/kept', Buffer.from('kept'), { retention: { mode: 'COMPLIANCE', until: new Date(Date.now() + 3600_000) } });
    const error = await store.delete('objects/gg/kept').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreObjectLockedError);
    expect((error as Error).message).toBe(`s3://backups/${prefix}: objects/gg/kept is under Object Lock retention and cannot be deleted yet`);
    expect(s3.requests.find((r) => r.method === 'DELETE')!.status).toBe(403);
    expect((await store.get('objects/gg/kept')).toString()).toBe('kept');
  });

  it('no credential ever appears in a URL, a header value other than the signature, or a body', async () => {
    const store = s3.store(prefix);
    await store.putOnce('objects/hh/x', Buffer.from('x'));
    await store.get('objects/hh/x');
    await collect(store.list(''));
    await store.delete('objects/hh/x');
    expect(s3.requests.length).toBeGreaterThan(4);
    for (const r of s3.requests) {
      expect(r.url).not.toMatch(/X-Amz-Credential|X-Amz-Signature|AWSAccessKeyId/i);
      expect(JSON.stringify(r.headers)).not.toContain(secret);
      expect(r.body.includes(secret)).toBe(false);
      expect(r.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 /);
    }
  });
});

describe('S3Store on a server that ignores If-None-Match', () => {
  let lax: S3StandIn;
  beforeAll(async () => {
    lax = await startS3StandIn({ enforceConditionalWrites: false, enforceObjectLock: false });
  });
  afterAll(async () => lax?.close());

  it('the head check still keeps a written object from being replaced by a later put', async () => {
    const store = lax.store('lax');
    expect((await store.putOnce('manifests/m', Buffer.from('first'))).created).toBe(true);
    expect(await store.putOnce('manifests/m', Buffer.from('second!'))).toEqual({ created: false, storedSize: 5 });
    expect(lax.objectBytes('lax/manifests/m')?.toString()).toBe('first');
    // The server said 200 to the conditional PUT it ignored; only the head kept the second put from happening.
    expect(lax.requests.filter((r) => r.method === 'PUT')).toHaveLength(1);
  });
});

describe('S3Store errors', () => {
  it('a missing bucket is "not found" (exit 10) and names the bucket', async () => {
    const store = new S3Store({ ...s3.storeOptions('x', 'no-such-bucket'), client: createS3Client(s3.storeOptions('x', 'no-such-bucket')) });
    for (const attempt of [() => store.putOnce('k', Buffer.from('x')), () => collect(store.list('')), () => store.get('k')]) {
      const error = (await attempt().catch((e: unknown) => e)) as BackupError;
      expect(error).toBeInstanceOf(BackupError);
      expect(error.exitCode).toBe(10);
      expect(error.message).toBe('s3://no-such-bucket/x: bucket no-such-bucket does not exist (or the endpoint is wrong)');
    }
  });

  it('an unknown access key is an authentication failure (exit 12), without the secret in the message', async () => {
    const saved = { ...process.env };
    process.env.AWS_ACCESS_KEY_ID = 'AKIAUNKNOWNKEY000000';
    try {
      const store = s3.store(prefix);
      const error = (await store.putOnce('k', Buffer.from('x')).catch((e: unknown) => e)) as BackupError;
      expect(error.exitCode).toBe(12);
      expect(error.message).toMatch(/^s3:\/\/backups\/t-[0-9a-f]+: cannot (check|write) k: access denied \(\w+\); check the credentials and the bucket policy$/);
      expect(JSON.stringify(error.details)).not.toContain(secret);
    } finally {
      process.env = saved;
    }
  });

  it('no credentials anywhere in the chain: exit 12 and a message saying where credentials come from', async () => {
    const saved = { ...process.env };
    const empty = mkdtempSync(join(tmpdir(), 'gpb-no-aws-'));
    for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
    Object.assign(process.env, {
      AWS_SHARED_CREDENTIALS_FILE: join(empty, 'credentials'),
      AWS_CONFIG_FILE: join(empty, 'config'),
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    try {
      const store = s3.store(prefix);
      const error = (await store.head('k').catch((e: unknown) => e)) as BackupError;
      expect(error).toBeInstanceOf(BackupError);
      expect(error.exitCode).toBe(12);
      expect(error.message).toContain('no AWS credentials found');
      expect(error.message).toContain('AWS_ACCESS_KEY_ID');
    } finally {
      process.env = saved;
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
