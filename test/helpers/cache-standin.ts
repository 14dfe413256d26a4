// A stand-in for the GitHub Actions cache service v2 on 127.0.0.1, enough for the real @actions/cache client
// (ACTIONS_CACHE_SERVICE_V2, ACTIONS_RESULTS_URL, ACTIONS_RUNTIME_TOKEN): Twirp JSON GetCacheEntryDownloadURL,
// CreateCacheEntry and FinalizeCacheEntryUpload, the Azure blob upload to the signed_upload_url it hands out, and a
// plain GET of the signed_download_url. Both URLs point back here. Entries are matched as the real service does:
// the key exactly, then each restore key as a prefix, newest entry first, and always the same version.
import { createServer, type Server } from 'node:http';
import { ArtifactStandIn } from './artifact-standin.ts';
import { BlobBlocks } from './azure-blob.ts';
import { closeServer, listenOnLoopback } from './loopback.ts';

const SERVICE = '/twirp/github.actions.results.api.v1.CacheService';

export interface CacheEntry {
  key: string;
  version: string;
  /** The committed archive (a zstd or gzip tar, as the client chose). */
  blob?: Buffer;
  finalized: boolean;
  sizeBytes?: number;
}

export interface CacheLookup {
  key: string;
  restoreKeys: string[];
  version: string;
  /** The key that matched, or null for a miss. */
  matched: string | null;
}

export class CacheStandIn {
  readonly entries: CacheEntry[] = [];
  readonly lookups: CacheLookup[] = [];
  /** Every request as "METHOD path" (query left out: it carries the signature). */
  readonly calls: string[] = [];
  /** Authorization headers seen on Twirp calls. */
  readonly authorizations: string[] = [];
  private readonly blocks = new BlobBlocks();
  private server: Server | undefined;
  url = '';

  /** The environment a JavaScript action gets from a runner that has the cache service v2. */
  env(): Record<string, string> {
    return { ACTIONS_RUNTIME_TOKEN: ArtifactStandIn.runtimeToken(), ACTIONS_RESULTS_URL: `${this.url}/`, ACTIONS_CACHE_SERVICE_V2: 'True' };
  }

  private match(key: string, restoreKeys: string[], version: string): CacheEntry | undefined {
    const usable = this.entries.filter((e) => e.finalized && e.version === version).reverse(); // newest first
    return usable.find((e) => e.key === key) ?? restoreKeys.map((prefix) => usable.find((e) => e.key.startsWith(prefix))).find(Boolean);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        this.calls.push(`${req.method} ${url.pathname}`);
        const json = (status: number, value: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(value));
        };
        const twirp = url.pathname.startsWith(`${SERVICE}/`) && req.method === 'POST';
        const request = twirp ? (JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>) : {};
        if (twirp) this.authorizations.push(String(req.headers.authorization ?? ''));

        if (twirp && url.pathname.endsWith('/GetCacheEntryDownloadURL')) {
          const key = String(request.key);
          const restoreKeys = (request.restore_keys as string[] | undefined) ?? [];
          const version = String(request.version);
          const entry = this.match(key, restoreKeys, version);
          this.lookups.push({ key, restoreKeys, version, matched: entry?.key ?? null });
          if (!entry) return json(200, { ok: false, signed_download_url: '', matched_key: '' });
          const id = this.entries.indexOf(entry) + 1;
          return json(200, { ok: true, signed_download_url: `${this.url}/blobs/cache-${id}.tar?sig=stand-in-signature`, matched_key: entry.key });
        }
        if (twirp && url.pathname.endsWith('/CreateCacheEntry')) {
          const key = String(request.key);
          const version = String(request.version);
          if (this.entries.some((e) => e.key === key && e.version === version)) {
            return json(409, { code: 'already_exists', msg: `cache entry ${key} already exists` });
          }
          this.entries.push({ key, version, finalized: false });
          return json(200, { ok: true, signed_upload_url: `${this.url}/blobs/cache-${this.entries.length}.tar?sig=stand-in-signature&se=2099-01-01` });
        }
        if (twirp && url.pathname.endsWith('/FinalizeCacheEntryUpload')) {
          const entry = this.entries.find((e) => e.key === request.key && e.version === request.version);
          if (!entry?.blob) return json(200, { ok: false, entry_id: '0', message: `nothing was uploaded for ${String(request.key)}` });
          entry.finalized = true;
          entry.sizeBytes = Number(request.size_bytes);
          return json(200, { ok: true, entry_id: String(this.entries.indexOf(entry) + 1000) });
        }
        const blob = /^\/blobs\/cache-(\d+)\.tar$/.exec(url.pathname);
        const entry = blob ? this.entries[Number(blob[1]) - 1] : undefined;
        if (req.method === 'PUT' && blob && entry) {
          const committed = this.blocks.put(blob[1]!, url, body, res, this.calls.length);
          if (committed) entry.blob = committed;
          return;
        }
        if (req.method === 'GET' && entry?.blob) {
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(entry.blob.length) });
          res.end(entry.blob);
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
