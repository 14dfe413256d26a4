// Git LFS beside a GitHub stand-in on 127.0.0.1, as github.com serves it: git's smart HTTP through the real
// git-http-backend (fetch, and push to repositories whose config allows http.receivepack), and the LFS batch API
// (POST /<owner>/<name>.git/info/lfs/objects/batch), requiring the token, with download and upload hrefs that carry
// an authorization of their own. Every request is recorded by the stand-in, headers included.
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
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
  /** Objects received by upload, "<owner>/<name> <oid>", each checked against its oid before it was kept, in order. */
  uploadedOids: string[];
  /** Where a repository's uploaded objects are kept: per repository, as GitHub keeps LFS objects. */
  uploadsOf(repo: string): string;
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
  const server: LfsServer = {
    standIn,
    url: standIn.url,
    store,
    batchedOids: [],
    uploadedOids: [],
    uploadsOf: (repo) => join(store, 'uploads', repo),
    hrefBase: standIn.url,
  };
  const receiveObject = async (req: IncomingMessage, repo: string, oid: string): Promise<number> => {
    if (req.headers.authorization !== `RemoteAuth ${downloadKey}`) return 401;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    // As GitHub does, an object is stored only if its content is what its name says.
    if (createHash('sha256').update(bytes).digest('hex') !== oid) return 422;
    mkdirSync(server.uploadsOf(repo), { recursive: true });
    writeFileSync(join(server.uploadsOf(repo), oid), bytes);
    server.uploadedOids.push(`${repo} ${oid}`);
    return 200;
  };
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
    const upload = /^\/lfs-upload\/([^/]+\/[^/]+)\/([0-9a-f]{64})$/.exec(path);
    if (upload && req.method === 'PUT') {
      void receiveObject(req, upload[1]!, upload[2]!).then((status) => {
        res.writeHead(status);
        res.end();
      });
      return true;
    }
    if (!/\.git\/(info\/refs|git-upload-pack|git-receive-pack)$/.test(path)) return false;
    void serveThroughBackend(gitRoot, req, res);
    return true;
  });
  standIn.on('POST', /^\/([^/]+)\/([^/]+)\.git\/info\/lfs\/objects\/batch$/, (request, [owner, name]) => {
    if (!authorized(request.headers)) {
      return { status: 401, headers: { 'lfs-authenticate': 'Basic realm="GitHub"' }, body: { message: 'Credentials needed' } };
    }
    const body = request.body as { operation?: string; objects?: Array<{ oid: string; size: number }> };
    if (body.operation === 'upload') {
      // The LFS batch API: an object the server has gets no action; one it lacks gets an upload href.
      const objects = (body.objects ?? []).map(({ oid, size }) => {
        if (!/^[0-9a-f]{64}$/.test(oid)) return { oid, size, error: { code: 422, message: 'Invalid object' } };
        if (existsSync(join(server.uploadsOf(`${owner}/${name}`), oid))) return { oid, size };
        return { oid, size, authenticated: true, actions: { upload: { href: `${server.hrefBase}/lfs-upload/${owner}/${name}/${oid}`, header: { Authorization: `RemoteAuth ${downloadKey}` }, expires_in: 3600 } } };
      });
      return { status: 200, body: { transfer: 'basic', objects } };
    }
    if (body.operation !== 'download') return { status: 422, body: { message: `unknown operation ${String(body.operation)}` } };
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
