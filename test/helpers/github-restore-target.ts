// A GitHub repository to restore metadata into, on the GitHub API stand-in: an in-memory model of its labels,
// milestones, issues (pull requests among them), comments, branches and releases, with the write routes restore
// --metadata-to uses answering as GitHub does (201 with the record, 422 for a duplicate name or tag, 404), and an
// upload host of its own on loopback for release assets, as uploads.github.com is beside api.github.com. Tests
// assert on what the model holds and on the requests the stand-in (and `uploads`) received.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback } from './loopback.ts';
import { notFound, paginate, type GitHubStandIn, type Handler, type RecordedRequest, type StandInResponse } from './github-standin.ts';

export interface TargetComment {
  id: number;
  body: string;
}

export interface TargetIssue {
  number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
  stateReason: string | null;
  labels: string[];
  milestone: number | null;
  /** Set for a pull request created through POST /pulls. */
  pull: { head: string; base: string; draft: boolean } | null;
  comments: TargetComment[];
}

export interface TargetAsset {
  id: number;
  name: string;
  label: string | null;
  contentType: string;
  bytes: Buffer;
}

export interface TargetRelease {
  id: number;
  tagName: string;
  targetCommitish: string;
  name: string;
  body: string;
  draft: boolean;
  prerelease: boolean;
  assets: TargetAsset[];
}

const validationFailed = (resource: string, code: string, field: string): StandInResponse => ({
  status: 422,
  body: { message: 'Validation Failed', errors: [{ resource, code, field }], documentation_url: 'https://docs.github.com/rest', status: '422' },
});

export class RestoreTargetModel {
  readonly labels = new Map<string, { id: number; name: string; color: string; description: string }>();
  readonly milestones: Array<{ number: number; title: string; state: string; description: string; dueOn: string | null }> = [];
  readonly issues: TargetIssue[] = [];
  readonly releases: TargetRelease[] = [];
  readonly branches = new Set<string>();
  /** Answers for the next writes instead of applying them (a rate limit, say), first one first. */
  readonly refusals: StandInResponse[] = [];
  /** Called after a write is applied and before it is answered: a test can kill the client there. */
  onWrite: ((request: { method: string; path: string }) => void | Promise<void>) | undefined;
  /** Requests the upload host received. */
  readonly uploads: Array<{ method: string; path: string; query: Record<string, string> }> = [];
  private uploadServer: Server | undefined;
  private uploadUrl = '';
  private nextNumber = 1;
  private nextId = 5000;

  constructor(
    private readonly standIn: GitHubStandIn,
    readonly owner: string,
    readonly repo: string,
  ) {}

  get prefix(): string {
    return `/repos/${this.owner}/${this.repo}`;
  }

  /** A new repository's default labels, as GitHub creates them. */
  withDefaultLabels(): this {
    this.labels.set('bug', { id: this.nextId++, name: 'bug', color: 'd73a4a', description: "Something isn't working" });
    this.labels.set('documentation', { id: this.nextId++, name: 'documentation', color: '0075ca', description: 'Improvements or additions to documentation' });
    return this;
  }

  addIssue(title: string, body = ''): TargetIssue {
    const issue: TargetIssue = { number: this.nextNumber++, title, body, state: 'open', stateReason: null, labels: [], milestone: null, pull: null, comments: [] };
    this.issues.push(issue);
    return issue;
  }

  issue(number: number): TargetIssue | undefined {
    return this.issues.find((i) => i.number === number);
  }

  private issueJson(issue: TargetIssue): Record<string, unknown> {
    return {
      id: 100_000 + issue.number,
      number: issue.number,
      title: issue.title,
      body: issue.body,
      state: issue.state,
      state_reason: issue.stateReason,
      labels: issue.labels.map((name) => ({ name })),
      milestone: issue.milestone === null ? null : { number: issue.milestone },
      comments: issue.comments.length,
      ...(issue.pull ? { pull_request: { url: `${this.standIn.url}${this.prefix}/pulls/${issue.number}` } } : {}),
    };
  }

  private releaseJson(release: TargetRelease): Record<string, unknown> {
    return {
      id: release.id,
      tag_name: release.tagName,
      name: release.name,
      body: release.body,
      draft: release.draft,
      prerelease: release.prerelease,
      upload_url: `${this.uploadUrl}${this.prefix}/releases/${release.id}/assets{?name,label}`,
      assets: release.assets.map((a) => ({ id: a.id, name: a.name, label: a.label, size: a.bytes.length, content_type: a.contentType })),
    };
  }

  private async written(request: RecordedRequest | { method: string; path: string }, response: StandInResponse): Promise<StandInResponse> {
    await this.onWrite?.({ method: request.method, path: request.path });
    return response;
  }

  private createIssue(body: { title: string; body?: string; labels?: string[]; milestone?: number }, pull: TargetIssue['pull']): TargetIssue {
    const issue = this.addIssue(body.title, body.body ?? '');
    issue.labels = body.labels ?? [];
    issue.milestone = body.milestone ?? null;
    issue.pull = pull;
    // GitHub creates a label an issue names that the repository lacks.
    for (const name of issue.labels) if (!this.labels.has(name)) this.labels.set(name, { id: this.nextId++, name, color: 'ededed', description: '' });
    return issue;
  }

  private install(): this {
    const s = this.standIn;
    const p = this.prefix;
    const issueRoute = (suffix = '') => new RegExp(`^${p}/issues/(\\d+)${suffix}$`);
    const refusable = (method: string, pattern: string | RegExp, handler: Handler) => s.on(method, pattern, (req, params) => this.refusals.shift() ?? handler(req, params));
    const found = <T>(value: T | undefined, answer: (v: T) => StandInResponse | Promise<StandInResponse>) => (value === undefined ? { status: 404, body: notFound() } : answer(value));

    s.on('GET', p, () => ({ status: 200, body: { id: 42, name: this.repo, full_name: `${this.owner}/${this.repo}`, private: true } }));
    s.on('GET', `${p}/issues`, (req) => {
      const state = req.query.state ?? 'open';
      const list = this.issues.filter((i) => state === 'all' || i.state === state).sort((a, b) => b.number - a.number);
      return paginate(s, req, list.map((i) => this.issueJson(i)));
    });
    refusable('POST', `${p}/issues`, (req) => this.written(req, { status: 201, body: this.issueJson(this.createIssue(req.body as { title: string }, null)) }));
    refusable('POST', `${p}/pulls`, (req) => {
      const body = req.body as { title: string; body?: string; head: string; base: string; draft?: boolean };
      if (!this.branches.has(body.head) || !this.branches.has(body.base)) return validationFailed('PullRequest', 'invalid', this.branches.has(body.head) ? 'base' : 'head');
      const issue = this.createIssue({ title: body.title, body: body.body }, { head: body.head, base: body.base, draft: Boolean(body.draft) });
      return this.written(req, { status: 201, body: { ...this.issueJson(issue), head: { ref: body.head }, base: { ref: body.base } } });
    });
    refusable('PATCH', issueRoute(), (req, [n]) =>
      found(this.issue(Number(n)), (issue) => {
        const body = req.body as { state?: 'open' | 'closed'; state_reason?: string; labels?: string[]; milestone?: number };
        if (body.state) issue.state = body.state;
        if (body.state_reason) issue.stateReason = body.state_reason;
        if (body.labels) issue.labels = body.labels;
        if (body.milestone !== undefined) issue.milestone = body.milestone;
        return this.written(req, { status: 200, body: this.issueJson(issue) });
      }),
    );
    s.on('GET', issueRoute('/comments'), (req, [n]) => found(this.issue(Number(n)), (issue) => paginate(s, req, issue.comments.map((c) => ({ id: c.id, body: c.body })))));
    refusable('POST', issueRoute('/comments'), (req, [n]) =>
      found(this.issue(Number(n)), (issue) => {
        const comment = { id: this.nextId++, body: (req.body as { body: string }).body };
        issue.comments.push(comment);
        return this.written(req, { status: 201, body: comment });
      }),
    );
    refusable('POST', `${p}/labels`, (req) => {
      const body = req.body as { name: string; color: string; description?: string };
      if (this.labels.has(body.name)) return validationFailed('Label', 'already_exists', 'name');
      const label = { id: this.nextId++, name: body.name, color: body.color, description: body.description ?? '' };
      this.labels.set(body.name, label);
      return this.written(req, { status: 201, body: label });
    });
    refusable('PATCH', new RegExp(`^${p}/labels/([^/]+)$`), (req, [name]) =>
      found(this.labels.get(decodeURIComponent(name!)), (label) => {
        Object.assign(label, { color: (req.body as { color: string }).color, description: (req.body as { description?: string }).description ?? label.description });
        return this.written(req, { status: 200, body: label });
      }),
    );
    s.on('GET', `${p}/milestones`, (req) => paginate(s, req, this.milestones.filter((m) => req.query.state === 'all' || m.state === (req.query.state ?? 'open'))));
    refusable('POST', `${p}/milestones`, (req) => {
      const body = req.body as { title: string; state?: string; description?: string; due_on?: string };
      if (this.milestones.some((m) => m.title === body.title)) return validationFailed('Milestone', 'already_exists', 'title');
      const milestone = { number: this.milestones.length + 1, title: body.title, state: body.state ?? 'open', description: body.description ?? '', dueOn: body.due_on ?? null };
      this.milestones.push(milestone);
      return this.written(req, { status: 201, body: milestone });
    });
    s.on('GET', new RegExp(`^${p}/branches/(.+)$`), (_req, [branch]) =>
      this.branches.has(decodeURIComponent(branch!)) ? { status: 200, body: { name: decodeURIComponent(branch!) } } : { status: 404, body: { message: 'Branch not found', status: '404' } },
    );
    refusable('POST', `${p}/releases`, (req) => {
      const body = req.body as { tag_name: string; target_commitish?: string; name?: string; body?: string; draft?: boolean; prerelease?: boolean };
      if (this.releases.some((r) => r.tagName === body.tag_name)) return validationFailed('Release', 'already_exists', 'tag_name');
      const release: TargetRelease = { id: this.nextId++, tagName: body.tag_name, targetCommitish: body.target_commitish ?? 'main', name: body.name ?? '', body: body.body ?? '', draft: Boolean(body.draft), prerelease: Boolean(body.prerelease), assets: [] };
      this.releases.push(release);
      return this.written(req, { status: 201, body: this.releaseJson(release) });
    });
    s.on('GET', new RegExp(`^${p}/releases/(\\d+)$`), (_req, [id]) => found(this.releases.find((r) => r.id === Number(id)), (r) => ({ status: 200, body: this.releaseJson(r) })));
    s.on('GET', new RegExp(`^${p}/releases/tags/(.+)$`), (_req, [tag]) => found(this.releases.find((r) => r.tagName === decodeURIComponent(tag!)), (r) => ({ status: 200, body: this.releaseJson(r) })));
    s.on('GET', new RegExp(`^${p}/releases/(\\d+)/assets$`), (req, [id]) => found(this.releases.find((r) => r.id === Number(id)), (r) => paginate(s, req, (this.releaseJson(r) as { assets: unknown[] }).assets)));
    return this;
  }

  /** Start the upload host (install the API routes too). */
  async start(): Promise<this> {
    this.install();
    this.uploadServer = createServer((req, res) => this.upload(req, res));
    this.uploadUrl = await listenOnLoopback(this.uploadServer);
    return this;
  }

  close(): Promise<void> {
    return closeServer(this.uploadServer);
  }

  /** POST /repos/<owner>/<repo>/releases/<id>/assets?name=&label=, the bytes as the body. */
  private upload(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    this.uploads.push({ method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams) });
    const match = new RegExp(`^${this.prefix}/releases/(\\d+)/assets$`).exec(url.pathname);
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const release = match ? this.releases.find((r) => r.id === Number(match[1])) : undefined;
      const name = url.searchParams.get('name') ?? '';
      let response: StandInResponse;
      if (req.method !== 'POST' || !match || !release) response = { status: 404, body: notFound() };
      else if (release.assets.some((a) => a.name === name)) response = validationFailed('ReleaseAsset', 'already_exists', 'name');
      else {
        const asset: TargetAsset = { id: this.nextId++, name, label: url.searchParams.get('label'), contentType: String(req.headers['content-type'] ?? ''), bytes: Buffer.concat(chunks) };
        release.assets.push(asset);
        response = await this.written({ method: 'POST', path: url.pathname }, { status: 201, body: { id: asset.id, name: asset.name, label: asset.label, size: asset.bytes.length } });
      }
      res.writeHead(response.status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(response.body));
    })();
  }
}
