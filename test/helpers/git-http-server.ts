// git over HTTP on 127.0.0.1: git's own git-http-backend behind a tiny Node CGI bridge, recording every request's
// headers so tests can assert what git sent (the Authorization header, for one).
import { spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback } from './loopback.ts';

export const GIT_HTTP_BACKEND = '/usr/lib/git-core/git-http-backend';

export interface GitHttpRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

export interface GitHttpServer {
  /** http://127.0.0.1:<port> */
  url: string;
  requests: GitHttpRequest[];
  close(): Promise<void>;
}

/**
 * Serve the repositories under `projectRoot` (URL path /<owner>/<name>.git -> projectRoot/<owner>/<name>.git).
 * `intercept` may answer a request itself (a hostile server); otherwise git-http-backend does.
 */
export async function startGitHttpServer(
  projectRoot: string,
  intercept?: (request: IncomingMessage, response: ServerResponse) => boolean,
): Promise<GitHttpServer> {
  const requests: GitHttpRequest[] = [];
  const server: Server = createServer((request, response) => {
    requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers });
    if (intercept?.(request, response)) return;
    serveWithBackend(projectRoot, request, response);
  });
  const url = await listenOnLoopback(server);
  return { url, requests, close: () => closeServer(server) };
}

function serveWithBackend(projectRoot: string, request: IncomingMessage, response: ServerResponse): void {
  const parsed = new URL(request.url ?? '/', 'http://127.0.0.1');
  const child = spawn(GIT_HTTP_BACKEND, [], {
    env: {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: projectRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      GIT_CONFIG_NOSYSTEM: '1',
      REQUEST_METHOD: request.method ?? 'GET',
      PATH_INFO: decodeURIComponent(parsed.pathname),
      QUERY_STRING: parsed.search.slice(1),
      CONTENT_TYPE: request.headers['content-type'] ?? '',
      // git gzips large request bodies; git-http-backend inflates them when told.
      HTTP_CONTENT_ENCODING: request.headers['content-encoding'] ?? '',
      HTTP_GIT_PROTOCOL: String(request.headers['git-protocol'] ?? ''),
      REMOTE_ADDR: '127.0.0.1',
    },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  request.pipe(child.stdin);
  // CGI output: headers, a blank line, the body.
  let head = Buffer.alloc(0);
  let headersDone = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (headersDone) {
      response.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    headersDone = true;
    let status = 200;
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
      else response.setHeader(name, value);
    }
    response.writeHead(status);
    response.write(head.subarray(end + 4));
  });
  child.on('close', () => {
    if (!headersDone) response.writeHead(500);
    response.end();
  });
}

/** A pkt-line (git's length-prefixed framing). */
export function pktLine(text: string): string {
  return `${(Buffer.byteLength(text) + 4).toString(16).padStart(4, '0')}${text}`;
}
