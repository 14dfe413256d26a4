// A stand-in for the GitHub REST API on 127.0.0.1: answers like GitHub (JSON, Link headers for pagination,
// GitHub's status codes and error bodies) and records every request so tests can assert exactly what was asked.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback } from './loopback.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { parse as parseYaml } from 'yaml';

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. /repos/o/r/issues. */
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export interface StandInResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (request: RecordedRequest, params: string[]) => StandInResponse | Promise<StandInResponse>;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

export class GitHubStandIn {
  readonly requests: RecordedRequest[] = [];
  /** TCP connections accepted so far: a client that keeps its connection alive opens one for many requests. */
  connections = 0;
  private readonly routes: Route[] = [];
  private server: Server | undefined;
  private raw: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined;
  url = '';

  /** Answer some requests outside the JSON routes (git's smart HTTP beside the API, as github.com does). */
  serveRaw(handler: (req: IncomingMessage, res: ServerResponse) => boolean): this {
    this.raw = handler;
    return this;
  }

  /** `pattern` matches the whole path; capture groups are passed to the handler. Later routes win. */
  on(method: string, pattern: string | RegExp, handler: Handler): this {
    const regex = typeof pattern === 'string' ? new RegExp(`^${pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) : pattern;
    this.routes.unshift({ method: method.toUpperCase(), pattern: regex, handler });
    return this;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', () => this.connections++);
    this.url = await listenOnLoopback(this.server);
    return this;
  }

  async close(): Promise<void> {
    await closeServer(this.server);
  }

  /** Requests as "METHOD /path?query" strings, the shape most assertions want. */
  get calls(): string[] {
    return this.requests.map((r) => {
      const query = new URLSearchParams(r.query).toString();
      return `${r.method} ${r.path}${query ? `?${query}` : ''}`;
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.raw?.(req, res)) {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      this.requests.push({ method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body: undefined });
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let body: unknown = raw;
    if (raw && String(req.headers['content-type'] ?? '').includes('json')) {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
    }
    const request: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body: raw ? body : undefined,
    };
    this.requests.push(request);
    let response: StandInResponse = { status: 404, body: notFound() };
    for (const route of this.routes) {
      const match = route.method === request.method ? route.pattern.exec(request.path) : null;
      if (match) {
        try {
          response = await route.handler(request, match.slice(1));
        } catch (error) {
          response = { status: 500, body: { message: String(error) } };
        }
        break;
      }
    }
    const headers: Record<string, string> = { 'x-github-media-type': 'github.v3; format=json', ...response.headers };
    if (response.body !== undefined) headers['content-type'] = 'application/json; charset=utf-8';
    res.writeHead(response.status, headers);
    res.end(response.body === undefined ? undefined : JSON.stringify(response.body));
  }
}

export function notFound(): unknown {
  return { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' };
}

/**
 * One page of `items` the way GitHub pages lists: `page`/`per_page` from the query (per_page default 30) and a
 * Link header with next/last (and prev/first) relations that carry the other query parameters along.
 */
export function paginate(standIn: GitHubStandIn, request: RecordedRequest, items: unknown[]): StandInResponse {
  const perPage = Math.min(Number(request.query.per_page ?? 30) || 30, 100);
  const page = Math.max(Number(request.query.page ?? 1) || 1, 1);
  const lastPage = Math.max(Math.ceil(items.length / perPage), 1);
  const link = (p: number, rel: string): string => {
    const query = new URLSearchParams({ ...request.query, per_page: String(perPage), page: String(p) });
    return `<${standIn.url}${request.path}?${query}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (page < lastPage) links.push(link(page + 1, 'next'), link(lastPage, 'last'));
  if (page > 1) links.push(link(page - 1, 'prev'), link(1, 'first'));
  return {
    status: 200,
    body: items.slice((page - 1) * perPage, page * perPage),
    headers: links.length ? { link: links.join(', ') } : {},
  };
}

/** GitHub's answer when the rate limit is used up. */
export function rateLimited(resetEpochSeconds = Math.floor(Date.now() / 1000) + 3600): StandInResponse {
  return {
    status: 403,
    headers: {
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': String(resetEpochSeconds),
      'x-ratelimit-resource': 'core',
    },
    body: {
      message: 'API rate limit exceeded for user ID 1.',
      documentation_url: 'https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting',
      status: '403',
    },
  };
}

export function badCredentials(): StandInResponse {
  return { status: 401, body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' } };
}

export interface StandInIssue {
  number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
  labels: string[];
  pull_request?: boolean;
  comments: string[];
}

/**
 * Issues, labels and comments of one repository, served like GitHub does: the routes a failure reporter needs
 * (list issues by label and state, create, comment, update state, get/create label).
 */
export class IssuesModel {
  readonly issues: StandInIssue[] = [];
  readonly labels = new Set<string>();
  private nextNumber = 1;

  constructor(
    private readonly standIn: GitHubStandIn,
    readonly owner: string,
    readonly repo: string,
  ) {}

  add(issue: Partial<StandInIssue> & { title: string }): StandInIssue {
    const full: StandInIssue = { number: this.nextNumber++, body: '', state: 'open', labels: [], comments: [], ...issue };
    this.issues.push(full);
    return full;
  }

  private json(issue: StandInIssue): Record<string, unknown> {
    const base = `${this.standIn.url}/repos/${this.owner}/${this.repo}`;
    return {
      id: 1000 + issue.number,
      number: issue.number,
      title: issue.title,
      body: issue.body,
      state: issue.state,
      labels: issue.labels.map((name) => ({ name })),
      html_url: `https://github.example/${this.owner}/${this.repo}/issues/${issue.number}`,
      url: `${base}/issues/${issue.number}`,
      comments: issue.comments.length,
      ...(issue.pull_request ? { pull_request: { url: `${base}/pulls/${issue.number}` } } : {}),
    };
  }

  install(): this {
    const prefix = `/repos/${this.owner}/${this.repo}`;
    const s = this.standIn;
    s.on('GET', `${prefix}/issues`, (req) => {
      const state = req.query.state ?? 'open';
      const wanted = (req.query.labels ?? '').split(',').filter(Boolean);
      const list = this.issues
        .filter((i) => state === 'all' || i.state === state)
        .filter((i) => wanted.every((l) => i.labels.includes(l)))
        .sort((a, b) => b.number - a.number)
        .map((i) => this.json(i));
      return paginate(s, req, list);
    });
    s.on('POST', `${prefix}/issues`, (req) => {
      const body = req.body as { title: string; body?: string; labels?: string[] };
      const issue = this.add({ title: body.title, body: body.body ?? '', labels: body.labels ?? [] });
      for (const l of issue.labels) this.labels.add(l);
      return { status: 201, body: this.json(issue) };
    });
    s.on('POST', new RegExp(`^${prefix}/issues/(\\d+)/comments$`), (req, [n]) => {
      const issue = this.issues.find((i) => i.number === Number(n));
      if (!issue) return { status: 404, body: notFound() };
      issue.comments.push((req.body as { body: string }).body);
      return { status: 201, body: { id: issue.comments.length, body: (req.body as { body: string }).body } };
    });
    s.on('PATCH', new RegExp(`^${prefix}/issues/(\\d+)$`), (req, [n]) => {
      const issue = this.issues.find((i) => i.number === Number(n));
      if (!issue) return { status: 404, body: notFound() };
      Object.assign(issue, req.body as Partial<StandInIssue>);
      return { status: 200, body: this.json(issue) };
    });
    s.on('GET', new RegExp(`^${prefix}/labels/([^/]+)$`), (_req, [name]) => {
      const label = decodeURIComponent(name!);
      return this.labels.has(label)
        ? { status: 200, body: { name: label, color: 'b60205' } }
        : { status: 404, body: notFound() };
    });
    s.on('POST', `${prefix}/labels`, (req) => {
      const name = (req.body as { name: string }).name;
      if (this.labels.has(name)) {
        return {
          status: 422,
          body: { message: 'Validation Failed', errors: [{ resource: 'Label', code: 'already_exists', field: 'name' }] },
        };
      }
      this.labels.add(name);
      return { status: 201, body: { name, color: (req.body as { color?: string }).color } };
    });
    return this;
  }
}

// ---- Running a bundled action the way the runner does ----


export interface ActionRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  /** The exact environment the action saw (for asserting what was not leaked). */
  env: Record<string, string>;
}

/** Parse a GITHUB_OUTPUT file: `name<<DELIMITER\nvalue\nDELIMITER` blocks (and plain `name=value` lines). */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) value.push(lines[i]!);
      outputs[heredoc[1]!] = value.join('\n');
    } else if (line.includes('=')) {
      outputs[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return outputs;
}

/**
 * Run `<actionDir>/dist/index.mjs` in a child `node` as the runner does: inputs as INPUT_<NAME> (uppercased, spaces
 * to underscores, hyphens kept), action.yml defaults for inputs not given (`${{ github.x }}` taken from `github`),
 * GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, and only the environment given here plus PATH and HOME.
 */
export async function runAction(
  actionDir: string,
  options: {
    inputs?: Record<string, string>;
    env?: Record<string, string>;
    github?: Record<string, string>;
    cwd?: string;
    /** Sees the action's process as soon as it starts (to signal it, as the runner does on cancel). */
    onSpawn?: (child: ChildProcess) => void;
  } = {},
): Promise<ActionRun> {
  actionDir = resolvePath(actionDir);
  const meta = parseYaml(readFileSync(join(actionDir, 'action.yml'), 'utf8')) as {
    inputs?: Record<string, { default?: string }>;
    runs: { using: string; main: string };
  };
  const dir = mkdtempSync(join(tmpdir(), 'gpb-runner-'));
  const outputFile = join(dir, 'output');
  const summaryFile = join(dir, 'summary');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dir,
    GITHUB_ACTIONS: 'true',
    RUNNER_TEMP: dir,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    ...options.env,
  };
  const github = options.github ?? {};
  for (const [name, spec] of Object.entries(meta.inputs ?? {})) {
    const given = options.inputs?.[name];
    let value = given ?? spec.default ?? '';
    value = value.replace(/\$\{\{\s*github\.(\w+)\s*\}\}/g, (_m, key: string) => github[key] ?? '');
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  }
  for (const name of Object.keys(options.inputs ?? {})) {
    if (!(name in (meta.inputs ?? {}))) throw new Error(`input ${name} is not declared in ${actionDir}/action.yml`);
  }
  const child = spawn(process.execPath, [join(actionDir, meta.runs.main)], { env, cwd: options.cwd ?? dir, stdio: ['ignore', 'pipe', 'pipe'] });
  options.onSpawn?.(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr, outputs: parseOutputFile(readFileSync(outputFile, 'utf8')), summary: readFileSync(summaryFile, 'utf8'), env };
}
