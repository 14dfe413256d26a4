// git over HTTP on 127.0.0.1 through the real git-http-backend, with responses trickled out a chunk at a time: a
// fetch stays in flight long enough to be stopped or killed mid-way, like one against a slow upstream.
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { closeServer, listenOnLoopback } from './loopback.ts';

const BACKEND = '/usr/lib/git-core/git-http-backend';

export interface SlowGitServer {
  /** http://127.0.0.1:PORT: repositories are at `${url}/<path under projectRoot>`. */
  url: string;
  /** Requests received, "POST /acme/widgets.git/git-upload-pack". */
  requests: string[];
  /** Bytes of response body sent so far. */
  bytesSent(): number;
  /** The pace of requests that start from now on (those under way keep theirs). */
  setTrickle(trickle: Trickle): void;
  close(): Promise<void>;
}

export interface Trickle {
  chunkBytes: number;
  intervalMs: number;
}

export async function startSlowGitServer(projectRoot: string, initial: Trickle): Promise<SlowGitServer> {
  let pace = initial;
  const requests: string[] = [];
  let sent = 0;
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    const trickle = pace;
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(`${req.method} ${url.pathname}`);
    const cgi = spawn(BACKEND, [], {
      env: {
        GIT_PROJECT_ROOT: projectRoot,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: url.pathname,
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
        ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) } : {}),
        REMOTE_ADDR: '127.0.0.1',
        PATH: process.env.PATH ?? '/usr/bin:/bin',
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    req.pipe(cgi.stdin);
    // A client that hangs up (a killed fetch) ends our side too.
    res.on('close', () => cgi.kill('SIGKILL'));
    const chunks: Buffer[] = [];
    cgi.stdout.on('data', (d: Buffer) => chunks.push(d));
    cgi.on('close', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      const head = all.subarray(0, split).toString('latin1');
      let body = all.subarray(split + 4);
      let status = 200;
      for (const line of head.split('\r\n')) {
        const [name, ...rest] = line.split(':');
        const value = rest.join(':').trim();
        if (name!.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
        else if (name) res.setHeader(name, value);
      }
      res.writeHead(status);
      const tick = () => {
        if (res.destroyed) return;
        const piece = body.subarray(0, trickle.chunkBytes);
        body = body.subarray(trickle.chunkBytes);
        sent += piece.length;
        if (!body.length) return void res.end(piece);
        res.write(piece);
        const timer = setTimeout(() => {
          timers.delete(timer);
          tick();
        }, trickle.intervalMs);
        timers.add(timer);
      };
      tick();
    });
  });
  const url = await listenOnLoopback(server);
  return {
    url,
    requests,
    bytesSent: () => sent,
    setTrickle(next) {
      pace = next;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      await closeServer(server);
    },
  };
}
