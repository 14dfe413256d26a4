// Release assets (docs/METADATA_FORMAT.md "Where it lives"): downloaded, checksummed and kept read-only under their
// sha256. The API answers the asset URL with a redirect to a download host; the token goes to the API only, never
// to where it redirects (docs/ARCHITECTURE.md invariant 8), so the redirect is followed by hand without it.
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { exists } from '../fsutil.ts';
import type { GitHubClient } from '../github/client.ts';
import { assetFileName } from './format.ts';

export interface DownloadOptions {
  /** The size the API declares: more or fewer bytes than this is a failed download. */
  size: number;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

/** The asset's bytes as a stream: straight from the API, or from where it redirects, asked with no credentials. */
async function openAsset(client: GitHubClient, apiPath: string, options: DownloadOptions): Promise<ReadableStream<Uint8Array>> {
  const response = await client.request(`GET ${apiPath}`, {
    headers: { accept: 'application/octet-stream' },
    request: { redirect: 'manual', parseSuccessResponseBody: false },
  });
  const body = response.data as ReadableStream<Uint8Array> | null;
  const status = response.status as number;
  if (status < 300 || status >= 400) {
    if (!body) throw new Error(`the API answered ${status} with no body`);
    return body;
  }
  await body?.cancel().catch(() => undefined);
  const location = (response.headers as Record<string, unknown>).location;
  if (typeof location !== 'string') throw new Error(`the API answered ${status} without a Location`);
  let target: URL;
  try {
    target = new URL(location);
  } catch {
    throw new Error('the API redirected to a location that is not an absolute URL');
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') throw new Error(`the API redirected to a ${target.protocol} URL`);
  // A plain request: no Authorization, no cookies; the download host is not ours to give the token to.
  const download = await (options.fetch ?? fetch)(target, { headers: { accept: 'application/octet-stream', 'user-agent': 'github-private-backup' }, redirect: 'follow', ...(options.signal ? { signal: options.signal } : {}) });
  if (!download.ok || !download.body) {
    await download.body?.cancel().catch(() => undefined);
    throw new Error(`the download host answered HTTP ${download.status}`);
  }
  return download.body;
}

/**
 * Download one asset into `dir` as `<sha256>`: written to a temporary file, flushed, then renamed, read-only. A file
 * of those bytes already there is kept as it is. Returns the sha256.
 */
export async function downloadAsset(client: GitHubClient, apiPath: string, dir: string, options: DownloadOptions): Promise<string> {
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.tmp-${randomBytes(6).toString('hex')}`);
  const hash = createHash('sha256');
  let bytes = 0;
  const handle = await open(tmp, 'wx', 0o600);
  try {
    const stream = Readable.fromWeb(await openAsset(client, apiPath, options) as import('node:stream/web').ReadableStream<Uint8Array>);
    for await (const chunk of stream) {
      const buffer = chunk as Buffer;
      bytes += buffer.length;
      if (bytes > options.size) {
        stream.destroy();
        throw new Error(`more bytes than the ${options.size} the API declares`);
      }
      hash.update(buffer);
      await handle.write(buffer);
    }
    if (bytes !== options.size) throw new Error(`${bytes} bytes where the API declares ${options.size}`);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw error;
  }
  await handle.close();
  const sha256 = hash.digest('hex');
  const file = join(dir, assetFileName(sha256));
  if (await exists(file)) await rm(tmp, { force: true });
  else {
    await chmod(tmp, 0o444);
    await rename(tmp, file);
  }
  return sha256;
}
