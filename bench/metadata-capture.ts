// The GitHub metadata capture's bench (run by bench/metadata-bench.mjs, which bundles this file with esbuild so it
// can use the API stand-in of test/helpers): the requests a day with nothing new costs, and the time to capture a
// repository with 5,000 issues, as a ratio to a plain paginated download of the same lists with fetch in the same
// process (docs/BENCHMARKS.md "GitHub metadata").
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createGitCommandManager } from '../src/git/git.ts';
import { createGitHubClient } from '../src/github/client.ts';
import { captureMetadata, type CaptureOptions, type MetadataCaptureResult } from '../src/github-metadata/capture.ts';
import { getConditional } from '../src/github-metadata/requests.ts';
import { metadataSelection } from '../src/github-metadata/switches.ts';
import { Redactor } from '../src/redact.ts';
import { createBackup, createUpstream } from '../test/helpers/git-fixtures.ts';
import { GitHubRecords, startGitHubWithRecords, type RepoRecords } from '../test/helpers/github-records.ts';
import { GitHubStandIn, type RecordedRequest } from '../test/helpers/github-standin.ts';

export interface BenchOptions {
  issues: number;
  /** Every n-th issue gets a comment. */
  commentEvery: number;
  reps: number;
}

const TOKEN = 'ghp_BENCHtoken0000000000000000000000000000';

function captureOptions(standIn: GitHubStandIn, dir: string, owner: string, name: string, day: number): CaptureOptions {
  const redactor = new Redactor();
  redactor.add(TOKEN);
  return {
    apiUrl: standIn.url,
    token: TOKEN,
    owner,
    name,
    repoDir: join(dir, `${name}.git`),
    assetsDir: join(dir, `${name}.assets`),
    stateFile: join(dir, `${name}.state.json`),
    selection: metadataSelection(undefined),
    git: createGitCommandManager({ token: TOKEN, redactor }),
    redactor,
    clock: () => new Date(Date.parse('2026-12-01T02:00:00Z') + day * 86_400_000),
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** A repository with a little of every kind, as most are. */
function everyKind(repo: RepoRecords): void {
  repo.addLabel('bug');
  repo.addLabel('docs');
  repo.addMilestone('v1');
  for (let i = 0; i < 20; i++) {
    repo.addIssue({ title: `issue ${i}`, body: `body ${i}`, labels: ['bug'] });
    repo.comment(repo.issues.length, `comment on ${i}`);
  }
  for (let i = 0; i < 5; i++) {
    const pull = repo.addPull({ title: `pull ${i}`, head: `topic-${i}` });
    repo.review(pull.number);
    repo.reviewComment(pull.number, { body: 'nit', path: 'a.ts' });
  }
  repo.addCommitComment({ body: 'why?', commit: 'c'.repeat(40) });
  repo.addRelease('v1.0', [{ name: 'a.tar.gz', bytes: Buffer.alloc(64 * 1024, 1) }]);
  repo.protection.main = { enforce_admins: { enabled: true } };
}

export interface QuietDay {
  requests: number;
  notModified: number;
  /** Requests by the kind they serve. */
  byKind: Record<string, number>;
  /** Requests by endpoint (path without the query), by kind: `settings: ['/', '/branches', ...]`. */
  endpoints: Record<string, string[]>;
  committed: boolean;
  kinds: number;
  /** Only for the admin token's day: one such capture, and the same requests (ETags included) sent with fetch. */
  timing?: QuietTiming;
}

export interface QuietTiming {
  captureMs: number;
  fetchMs: number;
  ratio: number;
}

/** The kind a request of the capture serves (docs/METADATA_FORMAT.md "How it is captured"). */
function kindOf(rest: string): string {
  if (rest === '/' || rest.startsWith('/branches')) return 'settings';
  if (rest.startsWith('/issues')) return 'issues';
  if (rest.startsWith('/pulls')) return 'pulls';
  if (rest.startsWith('/comments')) return 'commitComments';
  return rest.slice(1).split('/')[0]!;
}

/**
 * Requests of a second capture with nothing new, by kind and endpoint. `admin: false`: the token's user is no admin
 * of the repository, so GitHub refuses it branch protection (and the capture, once told, stops asking).
 */
async function quietDay(standIn: GitHubStandIn, records: GitHubRecords, dir: string, name: string, admin: boolean, reps = 0): Promise<QuietDay> {
  const repo = records.repo('bench', name);
  everyKind(repo);
  repo.permissions.admin = admin;
  await captureMetadata(captureOptions(standIn, dir, 'bench', name, 1));
  const before = records.answers.length;
  const requestsBefore = standIn.requests.length;
  const result = await captureMetadata(captureOptions(standIn, dir, 'bench', name, 2));
  const answers = records.answers.slice(before);
  const timing = reps ? await quietTiming(standIn, standIn.requests.slice(requestsBefore), () => captureMetadata(captureOptions(standIn, dir, 'bench', name, 3)), reps) : undefined;
  const byKind: Record<string, number> = {};
  const endpoints: Record<string, string[]> = {};
  for (const { path } of answers) {
    const rest = path.replace(`/repos/bench/${name}`, '') || '/';
    const kind = kindOf(rest);
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    if (!(endpoints[kind] ??= []).includes(rest)) endpoints[kind].push(rest);
  }
  return { requests: answers.length, notModified: answers.filter((a) => a.status === 304).length, byKind, endpoints, committed: result.committed, kinds: Object.keys(result.kinds).length, ...(timing ? { timing } : {}) };
}

/**
 * A quiet capture against its floor: the same requests, with the same ETags, one after another with fetch and
 * nothing else; alternating, median of `reps`. What is left is the capture's own cost per repository and quiet day.
 */
async function quietTiming(standIn: GitHubStandIn, sent: RecordedRequest[], quietCapture: () => Promise<unknown>, reps: number): Promise<QuietTiming> {
  const replay = async () => {
    for (const request of sent) {
      const query = new URLSearchParams(request.query).toString();
      const etag = request.headers['if-none-match'];
      const response = await fetch(`${standIn.url}${request.path}${query ? `?${query}` : ''}`, { headers: { authorization: `token ${TOKEN}`, ...(typeof etag === 'string' ? { 'if-none-match': etag } : {}) } });
      if (response.status !== 304) throw new Error(`the replay of ${request.path} was answered ${response.status}, not 304`);
      await response.arrayBuffer();
    }
  };
  const captures: number[] = [];
  const fetches: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const t0 = performance.now();
    await replay();
    fetches.push(performance.now() - t0);
    const t1 = performance.now();
    await quietCapture();
    captures.push(performance.now() - t1);
  }
  const captureMs = median(captures);
  const fetchMs = median(fetches);
  return { captureMs, fetchMs, ratio: captureMs / fetchMs };
}

export interface QuietSync {
  requests: number;
  notModified: number;
  /** The requests not answered 304 ("/repos/o/r 200"). */
  answered: string[];
}

/**
 * The same day through `sync` (git over HTTP and the API on one stand-in, as github.com serves both): the identity
 * lookup asks for the repository record with the ETag the capture kept, and the settings use that answer; with
 * `settings: false`, it asks with the ETag of its own last answer.
 */
async function quietSync(switches: { settings?: boolean } = {}): Promise<QuietSync> {
  const upstream = createUpstream({ owner: 'acme', name: 'widgets' });
  const { standIn, records } = await startGitHubWithRecords(join(upstream.tmp, 'upstream'));
  const url = `${standIn.url}/acme/widgets.git`;
  const backup = createBackup([], { repositories: [Object.keys(switches).length ? { repo: url, metadata: switches } : url], apiUrl: standIn.url, token: TOKEN });
  try {
    everyKind(records.repo('acme', 'widgets'));
    await backup.engine.sync();
    const before = records.answers.length;
    await backup.engine.sync();
    const answers = records.answers.slice(before);
    return { requests: answers.length, notModified: answers.filter((a) => a.status === 304).length, answered: answers.filter((a) => a.status !== 304).map((a) => `${a.path} ${a.status}`) };
  } finally {
    await records.close();
    await standIn.close();
    upstream.cleanup();
    spawnSync('chmod', ['-R', 'u+w', backup.root]);
    rmSync(backup.root, { recursive: true, force: true });
  }
}

/** The reference: every page of the issues and their comments, with fetch and the Link header, nothing else. */
async function plainDownload(standIn: GitHubStandIn, owner: string, name: string): Promise<number> {
  let items = 0;
  for (const list of ['issues?state=all', 'issues/comments?']) {
    let url: string | null = `${standIn.url}/repos/${owner}/${name}/${list}&per_page=100`;
    while (url) {
      const response: Response = await fetch(url, { headers: { authorization: `token ${TOKEN}`, accept: 'application/vnd.github+json' } });
      items += ((await response.json()) as unknown[]).length;
      url = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '')?.[1] ?? null;
    }
  }
  return items;
}

/** One request's cost through the shared client and through plain fetch, in this process: wall and CPU time. */
export interface PerRequest {
  clientMs: number;
  fetchMs: number;
  ratio: number;
  /** CPU of the whole process per request (the stand-in's answer included, the same on both sides). */
  clientCpuMs: number;
  fetchCpuMs: number;
}

/**
 * Milliseconds per request of the same page through the shared client (Octokit + throttling + retry) and plain
 * fetch: `count` requests each, alternating in `rounds`, the fastest round of each counted. With `conditional`, each
 * request carries the page's ETag and is answered 304 (a day with nothing new); without, the page itself (200).
 */
async function perRequest(standIn: GitHubStandIn, path: string, conditional: boolean, count = 25, rounds = 5): Promise<PerRequest> {
  const client = createGitHubClient({ apiUrl: standIn.url, token: TOKEN });
  const first = await fetch(`${standIn.url}${path}`, { headers: { authorization: `token ${TOKEN}` } });
  await first.arrayBuffer();
  const ifNoneMatch: Record<string, string> = conditional ? { 'if-none-match': first.headers.get('etag')! } : {};
  const viaFetch = async () => {
    const response = await fetch(`${standIn.url}${path}`, { headers: { authorization: `token ${TOKEN}`, accept: 'application/vnd.github+json', ...ifNoneMatch } });
    if (response.status !== (conditional ? 304 : 200)) throw new Error(`fetch ${path}: ${response.status}`);
    return conditional ? response.arrayBuffer() : response.json();
  };
  const viaClient = () => getConditional(client, path, ifNoneMatch['if-none-match']);
  const time = async (one: () => Promise<unknown>) => {
    const cpu = process.cpuUsage();
    const t = performance.now();
    for (let i = 0; i < count; i++) await one();
    const used = process.cpuUsage(cpu);
    return { ms: (performance.now() - t) / count, cpuMs: (used.user + used.system) / 1000 / count };
  };
  const best = { client: { ms: Infinity, cpuMs: Infinity }, fetch: { ms: Infinity, cpuMs: Infinity } };
  for (let round = 0; round < rounds; round++) {
    for (const [side, one] of [['fetch', viaFetch], ['client', viaClient]] as const) {
      const measured = await time(one);
      if (measured.ms < best[side].ms) best[side] = measured;
    }
  }
  return { clientMs: best.client.ms, fetchMs: best.fetch.ms, ratio: best.client.ms / best.fetch.ms, clientCpuMs: best.client.cpuMs, fetchCpuMs: best.fetch.cpuMs };
}

export interface BigRepository {
  issues: number;
  comments: number;
  captureMs: number;
  referenceMs: number;
  ratio: number;
  quietCaptureMs: number;
  quietRequests: number;
  /** The fixed cost per request of the shared client, in this process, against fetch: a page (200), and a 304. */
  perRequest: { page: PerRequest; notModified: PerRequest };
  result: Pick<MetadataCaptureResult, 'committed' | 'changedDocuments'> & { issues: number };
}

async function bigRepository(standIn: GitHubStandIn, records: GitHubRecords, dir: string, options: BenchOptions): Promise<BigRepository> {
  const repo = records.repo('bench', 'big');
  for (let i = 1; i <= options.issues; i++) {
    repo.addIssue({ title: `Issue ${i}: something about widgets`, body: `A body of a few lines.\n\nSteps:\n1. this\n2. that\n\n(${i})`, labels: i % 3 ? ['bug'] : [] });
    if (i % options.commentEvery === 0) repo.comment(i, `A comment on issue ${i}.`);
  }
  const comments = repo.issues.reduce((n, i) => n + i.comments.length, 0);
  const captures: number[] = [];
  const references: number[] = [];
  let last: MetadataCaptureResult | undefined;
  let items = 0;
  for (let rep = 0; rep < options.reps; rep++) {
    // Alternate, so neither side always runs on a warmer process.
    const t0 = performance.now();
    items = await plainDownload(standIn, 'bench', 'big');
    references.push(performance.now() - t0);
    const repDir = join(dir, `big-${rep}`);
    const t1 = performance.now();
    last = await captureMetadata(captureOptions(standIn, repDir, 'bench', 'big', 1));
    captures.push(performance.now() - t1);
  }
  if (items !== options.issues + comments) throw new Error(`the reference read ${items} items, expected ${options.issues + comments}`);
  const before = records.answers.length;
  const t2 = performance.now();
  await captureMetadata(captureOptions(standIn, join(dir, 'big-0'), 'bench', 'big', 2));
  const quietCaptureMs = performance.now() - t2;
  const captureMs = median(captures);
  const referenceMs = median(references);
  return {
    issues: options.issues,
    comments,
    captureMs,
    referenceMs,
    ratio: captureMs / referenceMs,
    quietCaptureMs,
    quietRequests: records.answers.length - before,
    perRequest: {
      page: await perRequest(standIn, '/repos/bench/big/issues?state=all&per_page=100&page=1', false),
      notModified: await perRequest(standIn, '/repos/bench/big/issues?state=all&per_page=100&page=1', true),
    },
    result: { committed: last!.committed, changedDocuments: last!.changedDocuments, issues: last!.kinds.issues!.count },
  };
}

export async function runMetadataBench(options: BenchOptions): Promise<{ quiet: QuietDay; quietNoAdmin: QuietDay; quietSync: QuietSync; quietSyncNoSettings: QuietSync; big: BigRepository }> {
  const dir = mkdtempSync(join(tmpdir(), 'metadata-bench-'));
  const standIn = await new GitHubStandIn().start();
  const records = await new GitHubRecords(standIn).start();
  try {
    const quiet = await quietDay(standIn, records, dir, 'quiet', true, Math.max(5, options.reps));
    const quietNoAdmin = await quietDay(standIn, records, dir, 'quiet-reader', false);
    const big = await bigRepository(standIn, records, dir, options);
    return { quiet, quietNoAdmin, quietSync: await quietSync(), quietSyncNoSettings: await quietSync({ settings: false }), big };
  } finally {
    await records.close();
    await standIn.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
