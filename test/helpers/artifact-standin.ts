// A stand-in for the GitHub Actions artifact service (results service) on 127.0.0.1, enough for the real
// @actions/artifact v6 client to upload: Twirp JSON CreateArtifact / FinalizeArtifact, and the Azure blob upload
// (Put Block + Put Block List) to the signed_upload_url it hands out, which points back here.
import { createServer, type Server } from 'node:http';
import { BlobBlocks } from './azure-blob.ts';
import { closeServer, listenOnLoopback } from './loopback.ts';
import { inflateRawSync } from 'node:zlib';

const SERVICE = '/twirp/github.actions.results.api.v1.ArtifactService';

export interface UploadedArtifact {
  name: string;
  createRequest: Record<string, unknown>;
  finalizeRequest?: Record<string, unknown>;
  /** The committed blob (a zip unless skipArchive). */
  blob?: Buffer;
}

export interface ArtifactStandInOptions {
  /** Make CreateArtifact answer this HTTP status with a Twirp error (not retried by the client unless 5xx/429). */
  failCreateWith?: number;
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export class ArtifactStandIn {
  readonly artifacts: UploadedArtifact[] = [];
  /** Every request as "METHOD path" (query left out: it carries the signature). */
  readonly calls: string[] = [];
  /** Authorization headers seen on Twirp calls. */
  readonly authorizations: string[] = [];
  private readonly blocks = new BlobBlocks();
  private server: Server | undefined;
  url = '';

  constructor(private readonly options: ArtifactStandInOptions = {}) {}

  /** ACTIONS_RUNTIME_TOKEN: an (unsigned) JWT whose scp claim names the run and job backend ids. */
  static runtimeToken(runBackendId = 'run-backend-1', jobBackendId = 'job-backend-1'): string {
    return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ scp: `Actions.GenericRead:x Actions.Results:${runBackendId}:${jobBackendId}`, exp: 4102444800 })}.c2ln`;
  }

  /** The environment a JavaScript action gets from the runner for artifact uploads. */
  env(): Record<string, string> {
    return { ACTIONS_RUNTIME_TOKEN: ArtifactStandIn.runtimeToken(), ACTIONS_RESULTS_URL: `${this.url}/` };
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        this.calls.push(`${req.method} ${url.pathname}`);
        const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
          res.writeHead(status, { 'content-type': 'application/json', ...headers });
          res.end(JSON.stringify(value));
        };
        if (req.method === 'POST' && url.pathname === `${SERVICE}/CreateArtifact`) {
          this.authorizations.push(String(req.headers.authorization ?? ''));
          const request = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
          if (this.options.failCreateWith) {
            json(this.options.failCreateWith, { code: 'permission_denied', msg: 'artifact storage refused the upload (stand-in)' });
            return;
          }
          this.artifacts.push({ name: String(request.name), createRequest: request });
          const id = this.artifacts.length;
          json(200, { ok: true, signed_upload_url: `${this.url}/blobs/artifact-${id}.zip?sig=stand-in-signature&se=2099-01-01` });
          return;
        }
        if (req.method === 'POST' && url.pathname === `${SERVICE}/FinalizeArtifact`) {
          this.authorizations.push(String(req.headers.authorization ?? ''));
          const request = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
          const artifact = this.artifacts.find((a) => a.name === request.name);
          if (!artifact) {
            json(404, { code: 'not_found', msg: 'no such artifact' });
            return;
          }
          artifact.finalizeRequest = request;
          json(200, { ok: true, artifact_id: String(this.artifacts.indexOf(artifact) + 1000) });
          return;
        }
        const blob = /^\/blobs\/artifact-(\d+)\.zip$/.exec(url.pathname);
        if (req.method === 'PUT' && blob) {
          const committed = this.blocks.put(blob[1]!, url, body, res, this.calls.length);
          const artifact = this.artifacts[Number(blob[1]) - 1];
          if (artifact && committed) artifact.blob = committed;
          return;
        }
        json(404, { code: 'not_found', msg: `stand-in has no route for ${req.method} ${url.pathname}` });
      });
    });
    this.url = await listenOnLoopback(this.server);
    return this;
  }

  async close(): Promise<void> {
    await closeServer(this.server);
  }
}

/** Read a zip file's entries (stored or deflated) through its central directory. Enough for artifact zips. */
export function readZip(zip: Buffer): Map<string, Buffer> {
  const entries = new Map<string, Buffer>();
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 65_557); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip file: no end of central directory record');
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error(`bad central directory entry at ${p}`);
    const method = zip.readUInt16LE(p + 10);
    const compressedSize = zip.readUInt32LE(p + 20);
    const nameLength = zip.readUInt16LE(p + 28);
    const extraLength = zip.readUInt16LE(p + 30);
    const commentLength = zip.readUInt16LE(p + 32);
    const localOffset = zip.readUInt32LE(p + 42);
    const name = zip.subarray(p + 46, p + 46 + nameLength).toString('utf8');
    const localNameLength = zip.readUInt16LE(localOffset + 26);
    const localExtraLength = zip.readUInt16LE(localOffset + 28);
    const start = localOffset + 30 + localNameLength + localExtraLength;
    const data = zip.subarray(start, start + compressedSize);
    if (!name.endsWith('/')) entries.set(name, method === 8 ? inflateRawSync(data) : Buffer.from(data));
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}
