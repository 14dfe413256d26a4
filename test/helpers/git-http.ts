// git's smart HTTP on 127.0.0.1, served by the real git-http-backend CGI: for tests that need an upstream that
// changes between two requests of one sync, or git beside the GitHub API stand-in (as github.com serves both).
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback } from './loopback.ts';

const BACKEND = '/usr/lib/git-core/git-http-backend';

export interface GitHttpRequest {
  method: string;
  /** Path and query, e.g. /acme/widgets.git/info/refs?service=git-upload-pack */
  url: string;
  status: number;
}

/** A slow network: the answer's body goes out `chunkBytes` at a time, one chunk every `intervalMs`. */
export interface Pace {
  chunkBytes: number;
  intervalMs: number;
}

/**
 * Run one request through git-http-backend with `projectRoot` as GIT_PROJECT_ROOT; resolves with the status sent
 * (once the whole answer went out).
 */
export async function serveThroughBackend(projectRoot: string, req: IncomingMessage, res: ServerResponse, pace?: Pace): Promise<number> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const header = (name: string) => String(req.headers[name] ?? '');
  const child = spawn(BACKEND, [], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      GIT_PROJECT_ROOT: projectRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      GIT_CONFIG_NOSYSTEM: '1',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: header('content-type'),
      CONTENT_LENGTH: String(body.length),
      HTTP_CONTENT_ENCODING: header('content-encoding'),
      GIT_PROTOCOL: header('git-protocol'),
      REMOTE_ADDR: '127.0.0.1',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // The backend may answer (an error, a refusal) and exit before reading the whole body: its answer is what counts,
  // so a closed stdin (EPIPE) is not an error of the test server.
  child.stdin.on('error', () => undefined);
  child.stdin.end(body);
  const out: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.resume();
  await new Promise((resolve) => child.on('close', resolve));
  const all = Buffer.concat(out);
  const split = all.indexOf('\r\n\r\n');
  const head = all.subarray(0, split < 0 ? 0 : split).toString('latin1');
  let status = 200;
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n').filter(Boolean)) {
    const colon = line.indexOf(':');
    const [name, value] = [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
    else headers[name] = value;
  }
  res.writeHead(status, headers);
  let answer = split < 0 ? all : all.subarray(split + 4);
  if (pace) {
    for (; answer.length > pace.chunkBytes; answer = answer.subarray(pace.chunkBytes)) {
      res.write(answer.subarray(0, pace.chunkBytes));
      await new Promise((resolve) => setTimeout(resolve, pace.intervalMs));
    }
  }
  res.end(answer);
  return status;
}

/**
 * A git server for the repositories under `projectRoot`. `afterRequest` runs once a request's answer is complete
 * and before the client sees its end, so a test can change the repository between two requests of one fetch.
 */
export async function startGitHttpServer(
  projectRoot: string,
  afterRequest?: (request: GitHttpRequest, index: number) => void,
): Promise<{ url: string; requests: GitHttpRequest[]; close(): Promise<void> }> {
  const requests: GitHttpRequest[] = [];
  const server: Server = createServer((req, res) => {
    const end = res.end.bind(res);
    // Hold the end of the answer until afterRequest ran.
    res.end = ((...args: Parameters<typeof res.end>) => {
      const request = { method: req.method ?? 'GET', url: req.url ?? '/', status: res.statusCode };
      requests.push(request);
      afterRequest?.(request, requests.length - 1);
      return end(...args);
    }) as typeof res.end;
    void serveThroughBackend(projectRoot, req, res);
  });
  const url = await listenOnLoopback(server);
  return { url, requests, close: () => closeServer(server) };
}
