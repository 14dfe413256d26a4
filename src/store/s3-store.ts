// A Store on S3-compatible object storage: AWS S3, Cloudflare R2, Backblaze B2, MinIO, Wasabi, GCS through HMAC
// keys (docs/STORE_BACKENDS.md). Credentials come only from the SDK's default provider chain; nothing here reads,
// holds or prints them. Write-once is `If-None-Match: *` where the server honours it, with a head check before
// a put for the servers that do not (skipped when the caller has just listed the keys: expectAbsent).
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { BackupError, ExitCode, StoreNotFoundError, StoreObjectLockedError } from '../errors.ts';
import { assertValidKey, assertValidPrefix, keyProblem } from './keys.ts';
import type { PutBody, PutOnceOptions, PutOnceResult, Store, StoredObject } from './store.ts';

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix inside the bucket, without leading or trailing "/" ("" for the bucket's root). */
  prefix: string;
  /** e.g. http://127.0.0.1:9000, https://ACCOUNT.r2.cloudflarestorage.com; AWS's own endpoints when unset. */
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  /** Bodies larger than this go up as a multipart upload in parts of this size (at least 5 MiB, S3's minimum). */
  partSize?: number;
  /** Parts in flight at once for one multipart upload. */
  queueSize?: number;
  /** Keys per ListObjectsV2 page (S3's maximum and default is 1000). */
  listPageSize?: number;
  /** A client built elsewhere (tests); otherwise one is built from the settings above. */
  client?: S3Client;
}

const DEFAULT_PART_SIZE = 16 * 1024 * 1024;
/** S3 refuses smaller parts (all but the last). */
const MIN_PART_SIZE = 5 * 1024 * 1024;

/** The client for these settings. Credentials: the default chain (environment, profiles, web identity / OIDC). */
export function createS3Client(options: Pick<S3StoreOptions, 'endpoint' | 'region' | 'forcePathStyle'>): S3Client {
  return new S3Client({
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    forcePathStyle: options.forcePathStyle ?? false,
    // The default (WHEN_SUPPORTED) streams bodies in aws-chunked framing with a trailing checksum, which R2, B2 and
    // s3rver do not all understand. We send Content-MD5 ourselves, and a checksum where Object Lock demands one.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 5,
    // Without these a dead connection hangs a push forever: give up on a connect after 10 s, and on a socket that
    // has carried nothing for 2 minutes (the SDK then retries the request).
    requestHandler: { connectionTimeout: 10_000, socketTimeout: 120_000 },
  });
}

export class S3Store implements Store {
  readonly location: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly listPageSize: number | undefined;

  constructor(options: S3StoreOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix.replace(/^\/+|\/+$/g, '');
    this.location = `s3://${options.bucket}${this.prefix ? `/${this.prefix}` : ''}`;
    this.client = options.client ?? createS3Client(options);
    this.partSize = Math.max(options.partSize ?? DEFAULT_PART_SIZE, MIN_PART_SIZE);
    this.queueSize = options.queueSize ?? 4;
    this.listPageSize = options.listPageSize;
  }

  async putOnce(key: string, body: PutBody, options: PutOnceOptions = {}): Promise<PutOnceResult> {
    const Key = this.objectKey(key);
    for (let attempt = 1; ; attempt++) {
      // The head saves the upload when the object exists, and is the only guard on servers that ignore
      // If-None-Match. A caller that has just listed the keys (expectAbsent) saves it on the first attempt.
      if (attempt > 1 || !options.expectAbsent) {
        const existing = await this.head(key);
        if (existing) return { created: false, storedSize: existing.size };
      }
      try {
        await this.write(Key, body, options);
        return { created: true, storedSize: Buffer.isBuffer(body) ? body.length : body.size };
      } catch (error) {
        // 412: someone else wrote the key first, and their object stays. 409: a conditional write to it is in
        // flight; the next head tells whether it landed. Either way, look again.
        if (!isPreconditionFailed(error) || attempt >= 3) throw this.describe(error, 'write', key);
      }
    }
  }

  private async write(Key: string, body: PutBody, options: PutOnceOptions): Promise<void> {
    const size = Buffer.isBuffer(body) ? body.length : body.size;
    const input: PutObjectCommandInput = {
      Bucket: this.bucket,
      Key,
      ContentLength: size,
      ContentType: 'application/octet-stream',
      IfNoneMatch: '*',
      ...(options.retention ? { ObjectLockMode: options.retention.mode, ObjectLockRetainUntilDate: options.retention.until } : {}),
    };
    if (size <= this.partSize) {
      // One request with Content-MD5: it guards the bytes on the wire and satisfies Object Lock's checksum rule on
      // every server. A small stream is read into memory for it (at most partSize bytes).
      const bytes = Buffer.isBuffer(body) ? body : await readExactly(body.open(), size);
      await this.client.send(new PutObjectCommand({ ...input, Body: bytes, ContentMD5: createHash('md5').update(bytes).digest('base64') }));
      return;
    }
    // Upload cuts the body into Buffer parts, so a checksum goes in a header (never aws-chunked framing). Object Lock
    // requires one on every part: CRC32 then. A failure aborts the multipart upload, so no object appears.
    const upload = new Upload({
      client: this.client,
      partSize: this.partSize,
      queueSize: this.queueSize,
      params: { ...input, Body: Buffer.isBuffer(body) ? body : body.open(), ...(options.retention ? { ChecksumAlgorithm: 'CRC32' } : {}) },
    });
    await upload.done();
  }

  async get(key: string): Promise<Buffer> {
    const stream = await this.getStream(key);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async getStream(key: string): Promise<Readable> {
    const Key = this.objectKey(key);
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      return response.Body as Readable;
    } catch (error) {
      if (errorName(error) === 'NoSuchKey' || httpStatus(error) === 404 && errorName(error) !== 'NoSuchBucket') {
        throw new StoreNotFoundError(this.location, key);
      }
      throw this.describe(error, 'read', key);
    }
  }

  async head(key: string): Promise<StoredObject | null> {
    const Key = this.objectKey(key);
    try {
      const response = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return { key, size: response.ContentLength ?? 0, lastModified: response.LastModified ?? new Date(0) };
    } catch (error) {
      // A HEAD has no body: a missing key and a missing bucket both come back as a bare 404.
      if (httpStatus(error) === 404) return null;
      throw this.describe(error, 'check', key);
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    assertValidPrefix(prefix);
    const base = this.prefix ? `${this.prefix}/` : '';
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: base + prefix,
            ...(this.listPageSize ? { MaxKeys: this.listPageSize } : {}),
            ...(token ? { ContinuationToken: token } : {}),
          }),
        );
      } catch (error) {
        throw this.describe(error, 'list', prefix || '(everything)');
      }
      for (const item of page.Contents ?? []) {
        if (!item.Key?.startsWith(base)) continue;
        const key = item.Key.slice(base.length);
        // Objects other tools put there (folder markers "x/", names with spaces) are not ours to read or prune.
        if (keyProblem(key) !== null) continue;
        yield { key, size: item.Size ?? 0, lastModified: item.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(key: string): Promise<void> {
    const Key = this.objectKey(key);
    try {
      // Object Lock needs a versioned bucket, where a plain DELETE only hides the object behind a delete marker.
      // Deleting the version itself frees the space, and is what Object Lock refuses inside the retention window.
      const current = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key })).catch((error: unknown) => {
        if (httpStatus(error) === 404) return null;
        throw error;
      });
      if (!current) return;
      const versioned = current.VersionId && current.VersionId !== 'null';
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key, ...(versioned ? { VersionId: current.VersionId } : {}) }));
    } catch (error) {
      if (errorName(error) === 'AccessDenied' && (await this.isRetained(key, error))) throw new StoreObjectLockedError(this.location, key);
      throw this.describe(error, 'delete', key);
    }
  }

  /** The full key in the bucket. */
  private objectKey(key: string): string {
    assertValidKey(key);
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  /** Was this AccessDenied Object Lock's doing? AWS says so in the message; otherwise ask for the retention. */
  private async isRetained(key: string, error: unknown): Promise<boolean> {
    if (/object lock/i.test(errorMessageOf(error))) return true;
    try {
      const response = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return Boolean(response.ObjectLockRetainUntilDate && response.ObjectLockRetainUntilDate.getTime() > Date.now());
    } catch {
      return false;
    }
  }

  /** A clear error for people: what failed, where, and what to check. The SDK error is not kept (it holds requests). */
  private describe(error: unknown, action: string, key: string): BackupError {
    // Our own errors (a body that failed its checksum, a short body) say what they mean already.
    if (error instanceof BackupError) return error;
    const name = errorName(error);
    const status = httpStatus(error);
    const where = `${this.location}: cannot ${action} ${key}`;
    const details = { code: name, status };
    if (name === 'NoSuchBucket') {
      return new BackupError(`${this.location}: bucket ${this.bucket} does not exist (or the endpoint is wrong)`, ExitCode.NOT_FOUND, { details });
    }
    if (name === 'CredentialsProviderError' || /could not load credentials/i.test(errorMessageOf(error))) {
      return new BackupError(
        `${where}: no AWS credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or an OIDC role (docs/STORE_BACKENDS.md "Credentials")`,
        ExitCode.AUTH,
        { details },
      );
    }
    if (AUTH_ERRORS.has(name) || status === 401 || status === 403) {
      return new BackupError(`${where}: access denied (${name}); check the credentials and the bucket policy`, ExitCode.AUTH, { details });
    }
    const message = errorMessageOf(error);
    return new BackupError(`${where}: ${name}${message && message !== name ? `: ${message}` : ''}${status ? ` (HTTP ${status})` : ''}`, ExitCode.FAILURE, {
      details,
    });
  }
}

const AUTH_ERRORS = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'AllAccessDisabled',
  'AccountProblem',
]);

/** The whole stream, which must hold exactly `size` bytes. */
async function readExactly(stream: Readable, size: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += (chunk as Buffer).length;
    if (total > size) break;
    chunks.push(chunk as Buffer);
  }
  stream.destroy();
  if (total !== size) throw new BackupError(`body for the store has ${total > size ? 'more' : 'fewer'} than the ${size} bytes announced`);
  return Buffer.concat(chunks, size);
}

function isPreconditionFailed(error: unknown): boolean {
  // 409 ConditionalRequestConflict: a concurrent conditional write to the same key is in flight.
  return httpStatus(error) === 412 || errorName(error) === 'PreconditionFailed' || errorName(error) === 'ConditionalRequestConflict';
}

function errorName(error: unknown): string {
  const e = error as { name?: string; Code?: string } | undefined;
  return e?.Code ?? e?.name ?? 'Error';
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function errorMessageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
