// The bench of restore --metadata-to (run by bench/metadata-restore-bench.mjs, which bundles this file with esbuild
// so it can use the stand-ins of test/helpers; docs/BENCHMARKS.md "restore --metadata-to"): the requests a restore of
// N records sends, by endpoint, and what a second run costs (nothing to create: reads only), as a ratio to the floor of
// any second run, reading the repository and listing its issues with fetch in the same process.
import { performance } from 'node:perf_hooks';
import type { Issue, Pull } from '../src/github-metadata/format.ts';
import type { RestoreMetadataResult } from '../src/types.ts';
import { RestoreTargetModel } from '../test/helpers/github-restore-target.ts';
import { GitHubStandIn, type RecordedRequest } from '../test/helpers/github-standin.ts';
import { backupWithMetadata } from '../test/helpers/metadata-snapshot.ts';

export interface RestoreBenchOptions {
  /** Issues and pull requests; every 10th is a pull request with a review, a thread and a reply. */
  records: number;
  reps: number;
}

const TOKEN = 'ghp_BENCHrestore00000000000000000000000000';
const t = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString().replace('.000Z', 'Z');

function documents(count: number): Record<string, unknown> {
  const docs: Record<string, unknown> = { 'labels.json': [{ name: 'bug', color: 'd73a4a', description: null }] };
  for (let n = 1; n <= count; n++) {
    const issue: Issue = {
      number: n,
      title: `Record ${n}`,
      body: `Body of ${n}`,
      state: n % 3 === 0 ? 'closed' : 'open',
      stateReason: n % 3 === 0 ? 'completed' : null,
      author: `user${n % 50}`,
      createdAt: t(n),
      updatedAt: t(n),
      closedAt: n % 3 === 0 ? t(n + 1) : null,
      labels: n % 2 ? ['bug'] : [],
      assignees: [],
      milestone: null,
      locked: n % 25 === 0,
      reactions: n % 4 === 0 ? { '+1': n % 7, heart: 1 } : {},
      comments: [{ id: n * 10, author: `user${(n + 1) % 50}`, body: `A comment on ${n}`, createdAt: t(n + 2), updatedAt: t(n + 2) }],
    };
    if (n % 10) {
      docs[`issues/${n}.json`] = issue;
      continue;
    }
    const sha = n.toString(16).padStart(40, 'a');
    const hunk = '@@ -1 +1 @@\n-old\n+new';
    const pull: Pull = {
      ...issue,
      draft: false,
      merged: false,
      mergedAt: null,
      mergeCommitSha: null,
      base: { ref: 'main', sha, repository: 'acme/widgets' },
      head: { ref: `topic-${n}`, sha, repository: 'acme/widgets' },
      reviews: [{ id: n * 10 + 1, author: 'reviewer', state: 'CHANGES_REQUESTED', body: 'Please change it.', submittedAt: t(n + 3), commitId: sha }],
      reviewComments: [
        { id: n * 10 + 2, author: 'reviewer', body: 'This line.', createdAt: t(n + 3), updatedAt: t(n + 3), reviewId: n * 10 + 1, inReplyTo: null, path: 'a.txt', diffHunk: hunk, line: 1, originalLine: 1, side: 'RIGHT', commitId: sha, originalCommitId: sha },
        { id: n * 10 + 3, author: issue.author, body: 'Done.', createdAt: t(n + 4), updatedAt: t(n + 4), reviewId: null, inReplyTo: n * 10 + 2, path: 'a.txt', diffHunk: hunk, line: 1, originalLine: 1, side: 'RIGHT', commitId: sha, originalCommitId: sha },
      ],
    };
    docs[`pulls/${n}.json`] = pull;
  }
  return docs;
}

/** "POST /repos/o/r/issues/12/comments" -> "POST …/issues/N/comments". */
const endpoint = (r: RecordedRequest) => `${r.method} …${r.path.replace(/^\/repos\/[^/]+\/[^/]+/, '').replace(/\/\d+/g, '/N')}`;

function byEndpoint(requests: RecordedRequest[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of requests) counts[endpoint(r)] = (counts[endpoint(r)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The floor of any second run: the repository read and every page of its issues listed, with fetch. */
async function reference(standIn: GitHubStandIn): Promise<void> {
  const headers = { authorization: `token ${TOKEN}`, accept: 'application/vnd.github+json' };
  await (await fetch(`${standIn.url}/repos/rebuilt/widgets`, { headers })).json();
  let next: string | null = `${standIn.url}/repos/rebuilt/widgets/issues?state=all&per_page=100`;
  while (next) {
    const response: Response = await fetch(next, { headers });
    await response.json();
    next = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '')?.[1] ?? null;
  }
}

export async function runRestoreBench(options: RestoreBenchOptions) {
  // The client paces writes one "second" apart (three before those that notify): 1 ms here, so the bench measures
  // our work, not GitHub's pacing (src/github/client.ts).
  process.env.BACKUP_RETRY_BASE_MS = '1';
  const cleanups: Array<() => void> = [];
  const standIn = await new GitHubStandIn().start();
  const model = await new RestoreTargetModel(standIn, 'rebuilt', 'widgets').start();
  try {
    const { b } = await backupWithMetadata(cleanups, { settings: { apiUrl: standIn.url, token: TOKEN }, live: () => ({ documents: documents(options.records) }) });
    const restore = async (): Promise<{ ms: number; value: RestoreMetadataResult; requests: RecordedRequest[] }> => {
      const from = standIn.requests.length;
      const start = performance.now();
      const result = await b.engine.restoreMetadata({ metadataTo: 'rebuilt/widgets' });
      const ms = performance.now() - start;
      const outcome = result.outcomes[0];
      if (!outcome?.ok) throw new Error(`restore failed: ${JSON.stringify(result.outcomes)}`);
      return { ms, value: outcome.value, requests: standIn.requests.slice(from) };
    };
    const first = await restore();
    const writes = first.requests.filter((r) => r.method !== 'GET');
    const again: number[] = [];
    const floor: number[] = [];
    let second = first;
    for (let i = 0; i < options.reps; i++) {
      second = await restore();
      again.push(second.ms);
      const start = performance.now();
      await reference(standIn);
      floor.push(performance.now() - start);
    }
    const issues = model.issues.length;
    return {
      records: options.records,
      first: { ms: first.ms, created: first.value.created, requests: first.requests.length, writes: writes.length, writesPerRecord: writes.length / issues, byEndpoint: byEndpoint(first.requests) },
      second: {
        ms: median(again),
        referenceMs: median(floor),
        ratio: median(again) / median(floor),
        requests: second.requests.length,
        writes: second.requests.filter((r) => r.method !== 'GET').length,
        byEndpoint: byEndpoint(second.requests),
        alreadyDone: second.value.alreadyDone,
      },
    };
  } finally {
    await model.close();
    await standIn.close();
    for (const cleanup of cleanups.reverse()) cleanup();
  }
}
