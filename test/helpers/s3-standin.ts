// A real S3 API server on 127.0.0.1 for tests: s3rver 3.7.1 on a temporary directory, behind a recording proxy
// (a plain HTTP server that forwards every request and remembers its method, URL and headers), so tests assert on
// what our client actually sent, not on what s3rver chose to keep.
//
// s3rver ignores two things real S3 does (issue 9, "Known limits"). The proxy can do them in front of it, in the
// way AWS documents them, so our handling of the answers is exercised against real HTTP:
//   - `If-None-Match: *` on PutObject and CompleteMultipartUpload: 412 PreconditionFailed when the key exists,
//     checked and forwarded under a per-key lock so two racing writers cannot both win (enforceConditionalWrites);
//   - Object Lock retention sent with a put: a later DeleteObject inside the window gets AWS's 403 AccessDenied
//     (enforceObjectLock).
// Turn them off to rehearse a server that ignores those headers (Backblaze, older MinIO, s3rver alone).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request as httpRequest, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Store, createS3Client, type S3StoreOptions } from '../../src/store/s3-store.ts';
import { closeServer, listenOnLoopback } from './loopback.ts';

const S3RVER_CHILD = join(import.meta.dirname, 's3rver-child.mjs');

/** s3rver accepts this access key id (and, not checking V4 signatures, any secret). */
export const S3RVER_ACCESS_KEY_ID = 'S3RVER';

export interface RecordedS3Request {
  method: string;
  /** The request target exactly as sent (path and query string). */
  url: string;
  /** Path without the query: /BUCKET/KEY with path-style addressing. */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** Body bytes the client sent. */
  bodyBytes: number;
  /** The body itself (tests search it for plaintext and secrets). */
  body: Buffer;
  /** Status the proxy answered with. */
  status: number;
}

export interface S3StandInOptions {
  buckets?: string[];
  enforceConditionalWrites?: boolean;
  enforceObjectLock?: boolean;
  /**
   * Answer like a versioned bucket (Object Lock needs one): object responses carry x-amz-version-id. s3rver itself
   * keeps one version per key and ignores ?versionId, so only what the client sends can be checked.
   */
  versioned?: boolean;
}

export class S3StandIn {
  readonly requests: RecordedS3Request[] = [];
  /** Awaited before each request is handled: a test can hold requests back to force an interleaving. */
  beforeHandle: ((request: RecordedS3Request) => Promise<void> | void) | undefined;
  /** Where s3rver keeps the buckets: `<dir>/<bucket>/<key>._S3rver_object` and its metadata. */
  readonly directory: string;
  /** The proxy's address: give this to clients. */
  url = '';
  /** s3rver's own address, bypassing the proxy (which buffers whole bodies): for measurements, not assertions. */
  get upstreamUrl(): string {
    return `http://127.0.0.1:${this.upstreamPort}`;
  }
  private upstreamPort = 0;
  private s3rver: ChildProcess | undefined;
  private proxy: Server | undefined;
  private readonly keyLocks = new Map<string, Promise<void>>();
  private readonly retention = new Map<string, Date>();
  private readonly pendingRetention = new Map<string, Date>();
  private readonly options: Required<S3StandInOptions>;

  constructor(options: S3StandInOptions = {}) {
    this.options = { buckets: ['backups'], enforceConditionalWrites: true, enforceObjectLock: true, versioned: false, ...options };
    this.directory = mkdtempSync(join(tmpdir(), 'gpb-s3rver-'));
  }

  async start(): Promise<this> {
    // Its own process: s3rver needs OpenSSL's legacy provider (see s3rver-child.mjs), and a crash stays there.
    const child = spawn(process.execPath, ['--openssl-legacy-provider', S3RVER_CHILD, this.directory, ...this.options.buckets], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.s3rver = child;
    this.upstreamPort = await new Promise<number>((resolve, reject) => {
      let output = '';
      const onData = (chunk: Buffer): void => {
        output += chunk.toString('utf8');
        if (!output.includes('\n')) return;
        child.stdout!.off('data', onData);
        // Keep draining: with S3RVER_VERBOSE=1 it logs every request there.
        child.stdout!.on('data', (more: Buffer) => process.env.S3RVER_VERBOSE === '1' && process.stdout.write(more));
        resolve((JSON.parse(output.split('\n')[0]!) as { port: number }).port);
      };
      child.stdout!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`s3rver exited with ${String(code)} before listening`)));
      child.once('error', reject);
    });
    this.proxy = createServer((req, res) => void this.handle(req, res));
    this.url = await listenOnLoopback(this.proxy);
    return this;
  }

  async close(): Promise<void> {
    await closeServer(this.proxy);
    const child = this.s3rver;
    if (child && child.exitCode === null) {
      const exited = once(child, 'exit');
      child.stdin!.end();
      await exited;
    }
    rmSync(this.directory, { recursive: true, force: true });
  }

  /** Client settings for this stand-in; credentials still come from the environment (S3RVER / any secret). */
  storeOptions(prefix = '', bucket = this.options.buckets[0]!): S3StoreOptions {
    return { bucket, prefix, endpoint: this.url, region: 'us-east-1', forcePathStyle: true };
  }

  store(prefix = '', extra: Partial<S3StoreOptions> = {}): S3Store {
    const options = { ...this.storeOptions(prefix), ...extra };
    return new S3Store({ ...options, client: createS3Client(options) });
  }

  /** Every file s3rver wrote (objects and metadata), with its bytes: for "no plaintext in the bucket" checks. */
  storedFiles(): { path: string; bytes: Buffer }[] {
    const out: { path: string; bytes: Buffer }[] = [];
    const visit = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) visit(path);
        else out.push({ path, bytes: readFileSync(path) });
      }
    };
    visit(this.directory);
    return out;
  }

  /** The bytes s3rver holds for `bucket/key`, or null. */
  objectBytes(key: string, bucket = this.options.buckets[0]!): Buffer | null {
    const parts = key.split('/');
    const last = parts.pop()!;
    try {
      return readFileSync(join(this.directory, bucket, ...parts, `${last}._S3rver_object`));
    } catch {
      return null;
    }
  }

  /** Requests that wrote an object (PutObject, UploadPart, CompleteMultipartUpload, CreateMultipartUpload). */
  get writes(): RecordedS3Request[] {
    return this.requests.filter((r) => r.method === 'PUT' || r.method === 'POST');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const target = new URL(req.url ?? '/', 'http://127.0.0.1');
    const record: RecordedS3Request = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      path: decodeURIComponent(target.pathname),
      query: target.searchParams,
      headers: req.headers,
      bodyBytes: body.length,
      body,
      status: 0,
    };
    this.requests.push(record);
    await this.beforeHandle?.(record);
    const answer = (status: number, headers: Record<string, string>, payload: Buffer | string): void => {
      record.status = status;
      res.writeHead(status, headers);
      res.end(payload);
    };
    try {
      const conditional = req.headers['if-none-match'] === '*' && this.options.enforceConditionalWrites && isObjectWrite(record);
      if (conditional) {
        await this.withKeyLock(record.path, async () => {
          if ((await this.forward('HEAD', target.pathname, headOnly(req.headers), Buffer.alloc(0))).status === 200) {
            answer(412, { 'content-type': 'application/xml' }, s3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold'));
            return;
          }
          await this.forwardAndAnswer(req, record, body, answer);
        });
        return;
      }
      if (record.method === 'DELETE' && this.options.enforceObjectLock && !record.query.has('uploadId')) {
        const until = this.retention.get(record.path);
        if (until && until.getTime() > Date.now()) {
          answer(403, { 'content-type': 'application/xml' }, s3Error('AccessDenied', 'Access Denied because object protected by object lock.'));
          return;
        }
      }
      await this.forwardAndAnswer(req, record, body, answer);
    } catch (error) {
      answer(500, { 'content-type': 'application/xml' }, s3Error('InternalError', String(error)));
    }
  }

  private async forwardAndAnswer(
    req: IncomingMessage,
    record: RecordedS3Request,
    body: Buffer,
    answer: (status: number, headers: Record<string, string>, payload: Buffer) => void,
  ): Promise<void> {
    const upstream = await this.forward(record.method, record.url, req.headers, body);
    if (upstream.status < 300) this.noteRetention(record, req.headers);
    if (this.options.versioned && upstream.status < 300 && ['HEAD', 'GET', 'PUT'].includes(record.method) && isObjectPath(record)) {
      upstream.headers['x-amz-version-id'] = versionIdFor(record.path);
    }
    answer(upstream.status, upstream.headers, upstream.body);
  }

  /** Remember Object Lock retention sent with a write, once the write succeeded. */
  private noteRetention(record: RecordedS3Request, headers: IncomingMessage['headers']): void {
    if (!this.options.enforceObjectLock) return;
    const until = headers['x-amz-object-lock-retain-until-date'];
    if (record.method === 'POST' && record.query.has('uploads')) {
      if (typeof until === 'string') this.pendingRetention.set(record.path, new Date(until));
    } else if (record.method === 'POST' && record.query.has('uploadId')) {
      const pending = this.pendingRetention.get(record.path);
      if (pending) this.retention.set(record.path, pending);
    } else if (record.method === 'PUT' && !record.query.has('partNumber') && typeof until === 'string') {
      this.retention.set(record.path, new Date(until));
    }
  }

  private forward(
    method: string,
    url: string,
    headers: IncomingMessage['headers'],
    body: Buffer,
  ): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const upstream = httpRequest(
        { host: '127.0.0.1', port: this.upstreamPort, method, path: url, headers: { ...headers, 'content-length': String(body.length) } },
        (response) => {
          const parts: Buffer[] = [];
          response.on('data', (chunk: Buffer) => parts.push(chunk));
          response.on('end', () => {
            const out: Record<string, string> = {};
            for (const [name, value] of Object.entries(response.headers)) {
              if (value !== undefined && name !== 'transfer-encoding' && name !== 'connection') out[name] = Array.isArray(value) ? value.join(', ') : value;
            }
            resolve({ status: response.statusCode ?? 502, headers: out, body: Buffer.concat(parts) });
          });
          response.on('error', reject);
        },
      );
      upstream.on('error', reject);
      // A HEAD made by the proxy itself carries no body even if the original request had one.
      upstream.end(method === 'HEAD' ? undefined : body);
    });
  }

  private async withKeyLock(key: string, task: () => Promise<void>): Promise<void> {
    const previous = this.keyLocks.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => (release = resolve));
    const chained = previous.then(() => current);
    this.keyLocks.set(key, chained);
    await previous;
    try {
      await task();
    } finally {
      release();
      if (this.keyLocks.get(key) === chained) this.keyLocks.delete(key);
    }
  }
}

/** A key's version id in a `versioned` stand-in: stable, so a test can predict it. */
export function versionIdFor(path: string): string {
  return `v-${Buffer.from(path).toString('base64url').slice(-24)}`;
}

/** /BUCKET/KEY rather than /BUCKET (a listing) or / (the service). */
function isObjectPath(record: RecordedS3Request): boolean {
  return record.path.split('/').filter(Boolean).length >= 2 && !record.query.has('partNumber') && !record.query.has('uploads') && !record.query.has('uploadId');
}

/** The request's headers for a HEAD of the same key: no body, no conditions. */
function headOnly(headers: IncomingMessage['headers']): IncomingMessage['headers'] {
  const out = { ...headers };
  for (const name of Object.keys(out)) {
    if (name.startsWith('if-') || name.startsWith('content-') || name.startsWith('x-amz-object-lock')) delete out[name];
  }
  return out;
}

/** PutObject or CompleteMultipartUpload: the requests that make an object visible under its key. */
function isObjectWrite(record: RecordedS3Request): boolean {
  if (record.method === 'PUT') return !record.query.has('partNumber') && !record.headers['x-amz-copy-source'];
  return record.method === 'POST' && record.query.has('uploadId');
}

function s3Error(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

export async function startS3StandIn(options: S3StandInOptions = {}): Promise<S3StandIn> {
  return new S3StandIn(options).start();
}
