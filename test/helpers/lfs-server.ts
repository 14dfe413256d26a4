// Git LFS beside a GitHub stand-in on 127.0.0.1, as github.com serves it: git's smart HTTP through the real
// git-http-backend, and the LFS batch API (POST /<owner>/<name>.git/info/lfs/objects/batch), requiring the token,
// with download hrefs that carry an authorization of their own. Every request is recorded by the stand-in, headers included.
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { serveThroughBackend } from './git-http.ts';
import { GitHubStandIn, type RecordedRequest } from './github-standin.ts';

export interface LfsServer {
  standIn: GitHubStandIn;
  /** The server: http://127.0.0.1:PORT (its API is at /api/v3). */
  url: string;
  /** Where the objects it serves live, one file per oid. */
  store: string;
  /** Objects the batch API was asked for, in order. */
  batchedOids: string[];
  /** Where the download hrefs point (this server; a test sets a closed port to make downloads fail). */
  hrefBase: string;
}

const authorizationFor = (token: string) => `basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;

/**
 * Serve the bare repositories under `gitRoot` and the LFS objects under `store`. `token`: the only credential
 * accepted, sent as git sends it (an Authorization header of x-access-token basic auth).
 */
export async function startLfsServer(options: { gitRoot: string; store: string; token: string }): Promise<LfsServer> {
  const { gitRoot, store, token } = options;
  mkdirSync(store, { recursive: true });
  const standIn = await new GitHubStandIn().start();
  // git sends "basic", git-lfs's credential path "Basic": the scheme is case-insensitive (RFC 9110).
  const authorized = (headers: RecordedRequest['headers']) => headers.authorization?.replace(/^basic /i, 'basic ') === authorizationFor(token);
  const downloadKey = randomBytes(8).toString('hex');
  const server: LfsServer = { standIn, url: standIn.url, store, batchedOids: [], hrefBase: standIn.url };
  standIn.serveRaw((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const download = /^\/lfs-objects\/([0-9a-f]{64})$/.exec(path);
    if (download) {
      const file = join(store, download[1]!);
      const status = req.headers.authorization !== `RemoteAuth ${downloadKey}` ? 401 : existsSync(file) ? 200 : 404;
      res.writeHead(status, { 'content-type': 'application/octet-stream' });
      res.end(status === 200 ? readFileSync(file) : undefined);
      return true;
    }
    if (!/\.git\/(info\/refs|git-upload-pack)$/.test(path)) return false;
    void serveThroughBackend(gitRoot, req, res);
    return true;
  });
  standIn.on('POST', /^\/([^/]+)\/([^/]+)\.git\/info\/lfs\/objects\/batch$/, (request) => {
    if (!authorized(request.headers)) {
      return { status: 401, headers: { 'lfs-authenticate': 'Basic realm="GitHub"' }, body: { message: 'Credentials needed' } };
    }
    const body = request.body as { operation?: string; objects?: Array<{ oid: string; size: number }> };
    if (body.operation !== 'download') return { status: 403, body: { message: 'this stand-in serves downloads only' } };
    const objects = (body.objects ?? []).map(({ oid, size }) => {
      server.batchedOids.push(oid);
      if (!/^[0-9a-f]{64}$/.test(oid) || !existsSync(join(store, oid))) return { oid, size, error: { code: 404, message: 'Object does not exist on the server' } };
      // As GitHub does: the href carries its own short-lived authorization, not the token.
      return { oid, size, authenticated: true, actions: { download: { href: `${server.hrefBase}/lfs-objects/${oid}`, header: { Authorization: `RemoteAuth ${downloadKey}` }, expires_in: 3600 } } };
    });
    return { status: 200, body: { transfer: 'basic', objects } };
  });
  return server;
}

/** Copy the LFS objects a work tree's commits produced (its .git/lfs/objects) into the server's store. */
export function uploadLfsObjects(workTree: string, store: string): string[] {
  const objects = join(workTree, '.git/lfs/objects');
  const oids: string[] = [];
  for (const a of readdirSync(objects)) {
    for (const b of readdirSync(join(objects, a))) {
      for (const oid of readdirSync(join(objects, a, b))) {
        cpSync(join(objects, a, b, oid), join(store, oid));
        oids.push(oid);
      }
    }
  }
  return oids.sort();
}
