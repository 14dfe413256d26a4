// Issues and pull requests with their conversations (docs/METADATA_FORMAT.md issues/, pulls/), read incrementally:
//   /issues?state=all&since=          issues (and the issue side of pull requests) changed since the mark
//   /pulls?state=all&sort=updated     pull requests, newest change first, down to the mark
//   /issues/comments?since=           every conversation comment changed since the mark, repository-wide
//   /pulls/comments?since=            every review comment changed since the mark, repository-wide
//   /pulls/<n>/reviews                the reviews of each pull request that changed
// A changed comment is merged into its record as kept in the tree, so a day costs what changed, not the repository.
import { classifyFailure, type KindFailure } from './failure.ts';
import { metadataPaths, type Comment, type Issue, type Pull, type Review } from './format.ts';
import type { CollectContext, KindResult } from './kind.ts';
import {
  mergeComments,
  normalizeComment,
  normalizeIssue,
  normalizePull,
  normalizeReview,
  normalizeReviewComment,
  parentNumber,
  type ApiComment,
  type ApiIssue,
  type ApiPull,
  type ApiReview,
  type ApiReviewComment,
} from './normalize.ts';
import { getConditional, readNewestFirst, readStream, requestKey, PER_PAGE, type StreamRead } from './requests.ts';
import type { StreamMark } from './capture-state.ts';

export const STREAMS = { issues: 'issues', pulls: 'pulls', issueComments: 'issueComments', reviewComments: 'reviewComments' } as const;

export interface ConversationResults {
  issues?: KindResult;
  pulls?: KindResult;
}

function fromFailure(failure: KindFailure): KindResult {
  return { state: failure.state, reason: failure.reason, documents: new Map(), ...(failure.stopsRepository ? { stopsRepository: true } : {}) };
}

const group = <T>(items: T[], key: (item: T) => number | null): Map<number, T[]> => {
  const map = new Map<number, T[]>();
  for (const item of items) {
    const n = key(item);
    if (n !== null) map.set(n, [...(map.get(n) ?? []), item]);
  }
  return map;
};

/**
 * A kind's result: `main` (its own list failing, or stopping) decides its state; a part of its records not read
 * (comments, reviews) makes it partial, with the first such reason.
 */
function outcome(documents: Map<string, unknown>, streams: Record<string, StreamMark>, main: KindFailure | null, parts: Array<KindFailure | null>, skipped: Array<{ what: string; reason: string }>): KindResult {
  const part = parts.find((p): p is KindFailure => p !== null);
  const failure = main ?? part ?? null;
  const stops = [main, ...parts].some((f) => f?.stopsRepository);
  return {
    state: main ? main.state : part ? 'partial' : 'complete',
    ...(failure ? { reason: failure.reason } : {}),
    ...(stops ? { stopsRepository: true } : {}),
    documents,
    streams,
    ...(skipped.length ? { skipped } : {}),
  };
}

class Stop extends Error {
  constructor(readonly failure: KindFailure) {
    super(failure.reason);
  }
}

export async function collectConversations(ctx: CollectContext, wanted: { issues: boolean; pulls: boolean }): Promise<ConversationResults> {
  const marks = ctx.state.streams;
  const results: ConversationResults = {};
  const issueDocs = new Map<string, unknown>();
  const pullDocs = new Map<string, unknown>();
  const pullSkips: Array<{ what: string; reason: string }> = [];
  const read = <T extends { id?: number; number?: number; updated_at?: string }>(path: string, query: Record<string, string>, stream: string) =>
    readStream<T>(ctx.client, `${ctx.repoPath}${path}`, query, marks[stream] ?? {});

  // 1. What changed: the issue stream (issues on), the pull request list (pulls on).
  let issueRead: StreamRead<ApiIssue> | null = null;
  let issueFailure: KindFailure | null = null;
  if (wanted.issues) {
    issueRead = await read<ApiIssue>('/issues', { state: 'all' }, STREAMS.issues);
    if (issueRead.error) issueFailure = classifyFailure(issueRead.error, 'issues', ctx.signal);
  }
  let pullRead: StreamRead<ApiPull> | null = null;
  let pullFailure: KindFailure | null = null;
  if (wanted.pulls && !issueFailure?.stopsRepository) {
    pullRead = await readNewestFirst<ApiPull>(ctx.client, `${ctx.repoPath}/pulls`, { state: 'all' }, marks[STREAMS.pulls] ?? {});
    if (pullRead.error) pullFailure = classifyFailure(pullRead.error, 'pull requests', ctx.signal);
  }
  const stopped = () => Boolean(issueFailure?.stopsRepository || pullFailure?.stopsRepository);

  // 2. The comments (needing every changed record known first: a comment is merged into its record).
  let commentRead: StreamRead<ApiComment> | null = null;
  let commentFailure: KindFailure | null = null;
  const issuesKnown = wanted.issues && !issueFailure;
  if ((issuesKnown || (wanted.pulls && !wanted.issues && !pullFailure)) && !stopped()) {
    commentRead = await read<ApiComment>('/issues/comments', {}, STREAMS.issueComments);
    if (commentRead.error) commentFailure = classifyFailure(commentRead.error, 'conversation comments', ctx.signal);
  }
  let reviewCommentRead: StreamRead<ApiReviewComment> | null = null;
  let reviewCommentFailure: KindFailure | null = null;
  if (wanted.pulls && !pullFailure && !stopped() && !commentFailure?.stopsRepository) {
    reviewCommentRead = await read<ApiReviewComment>('/pulls/comments', {}, STREAMS.reviewComments);
    if (reviewCommentRead.error) reviewCommentFailure = classifyFailure(reviewCommentRead.error, 'review comments', ctx.signal);
  }

  const changedIssues = new Map<number, ApiIssue>();
  const pullIssues = new Map<number, ApiIssue>();
  for (const item of issueRead?.items ?? []) (item.pull_request ? pullIssues : changedIssues).set(item.number, item);
  const changedPulls = new Map((pullRead?.items ?? []).map((p) => [p.number, p]));
  const commentsOf = group((commentRead?.items ?? []).map(normalizeCommentWithParent), (c) => c.parent);
  const reviewCommentsOf = group((reviewCommentRead?.items ?? []).map((c) => ({ comment: normalizeReviewComment(c), parent: parentNumber(c.pull_request_url) })), (c) => c.parent);

  // 3. Which record each comment belongs to: one this capture read, or one the tree holds; else ask (a race).
  const inTree = (path: string) => ctx.tree.blobs.has(path);
  const isPull = (n: number) => changedPulls.has(n) || pullIssues.has(n) || inTree(metadataPaths.pull(n));
  const isIssue = (n: number) => changedIssues.has(n) || inTree(metadataPaths.issue(n));
  let commentsComplete = true;
  try {
    for (const n of commentsOf.keys()) {
      if (isPull(n) || isIssue(n)) continue;
      if (!issuesKnown) continue; // pulls only: a comment on an issue, which is switched off
      const answer = await getConditional<ApiIssue>(ctx.client, requestKey(`${ctx.repoPath}/issues/${n}`, {}));
      if (!answer.notModified) (answer.data.pull_request ? pullIssues : changedIssues).set(n, answer.data);
    }
  } catch (error) {
    const failure = classifyFailure(error, 'an issue a new comment belongs to', ctx.signal);
    commentFailure ??= failure;
    commentsComplete = false;
  }

  // 4. Issues: the changed ones, and those with changed comments, merged into what the tree holds.
  if (wanted.issues) {
    const numbers = new Set([...changedIssues.keys(), ...[...commentsOf.keys()].filter((n) => !isPull(n) && isIssue(n))]);
    const kept = await ctx.readDocuments([...numbers].map(metadataPaths.issue));
    for (const n of [...numbers].sort((a, b) => a - b)) {
      const old = kept.get(metadataPaths.issue(n)) as Issue | undefined;
      const comments = mergeComments(old?.comments ?? [], (commentsOf.get(n) ?? []).map((c) => c.comment));
      const api = changedIssues.get(n);
      if (api) issueDocs.set(metadataPaths.issue(n), normalizeIssue(api, comments));
      else if (old) issueDocs.set(metadataPaths.issue(n), { ...old, comments });
    }
    const streams: Record<string, StreamMark> = issueRead ? { [STREAMS.issues]: issueRead.mark } : {};
    results.issues = outcome(issueDocs, streams, issueFailure, [commentFailure], []);
  }

  // 5. Pull requests: each changed one read whole (reviews), and those with changed comments merged.
  let pullsComplete = true;
  let stop: KindFailure | null = null;
  let pullUnread: KindFailure | null = null;
  if (wanted.pulls && pullRead && !pullFailure) {
    const retry = new Set(marks[STREAMS.pulls]?.retry ?? []);
    const numbers = new Set<number>([...changedPulls.keys(), ...pullIssues.keys(), ...[...commentsOf.keys()].filter(isPull), ...reviewCommentsOf.keys(), ...retry]);
    const kept = await ctx.readDocuments([...numbers].map(metadataPaths.pull));
    let reviewsRefused: KindFailure | null = null;
    const unreadReviews: number[] = [];
    // A stream that stopped the repository leaves every pull request to the next run: no request can succeed now.
    const stoppedBefore = [commentFailure, reviewCommentFailure].find((f) => f?.stopsRepository) ?? null;
    if (stoppedBefore) {
      stop = stoppedBefore;
      pullsComplete = false;
    }
    try {
      for (const n of stoppedBefore ? [] : [...numbers].sort((a, b) => a - b)) {
        const old = kept.get(metadataPaths.pull(n)) as Pull | undefined;
        const comments = mergeComments(old?.comments ?? [], (commentsOf.get(n) ?? []).map((c) => c.comment));
        const reviewComments = mergeComments(old?.reviewComments ?? [], (reviewCommentsOf.get(n) ?? []).map((c) => c.comment));
        // The lists are read down to their mark inclusive, so the newest record of the last run comes again: the
        // same updated_at as kept is no change (its reviews are not asked again), unless it was read only in part.
        const updatedAt = (changedPulls.get(n) ?? pullIssues.get(n))?.updated_at;
        const changed = retry.has(n) || ((changedPulls.has(n) || pullIssues.has(n)) && old?.updatedAt !== updatedAt);
        if (!changed && old) {
          pullDocs.set(metadataPaths.pull(n), { ...old, comments, reviewComments });
          continue;
        }
        let pull = changedPulls.get(n);
        if (!pull) {
          try {
            pull = await fetchPull(ctx, n);
          } catch (error) {
            const failure = classifyFailure(error, `pull request #${n}`, ctx.signal);
            if (failure.stopsRepository) throw new Stop(failure);
            // Asked again next run: the marks stay where they were.
            pullSkips.push({ what: `pull request #${n}`, reason: failure.reason });
            pullUnread ??= failure;
            pullsComplete = false;
            continue;
          }
        }
        let reviews: Review[] = old?.reviews ?? [];
        if (!reviewsRefused) {
          try {
            reviews = await fetchReviews(ctx, n);
          } catch (error) {
            const failure = classifyFailure(error, `reviews of pull request #${n}`, ctx.signal);
            if (failure.stopsRepository) throw new Stop(failure);
            // One refusal is enough to know: the token cannot read reviews here. The others are not asked.
            reviewsRefused = failure;
          }
        }
        if (reviewsRefused) {
          pullSkips.push({ what: `reviews of pull request #${n}`, reason: reviewsRefused.reason });
          unreadReviews.push(n);
        }
        pullDocs.set(metadataPaths.pull(n), normalizePull({ pull, issue: pullIssues.get(n), kept: old, comments, reviews, reviewComments }));
      }
    } catch (error) {
      stop = error instanceof Stop ? error.failure : classifyFailure(error, 'pull requests', ctx.signal);
      pullsComplete = false;
    }
    const streams: Record<string, StreamMark> = {};
    if (pullsComplete && pullRead) {
      const { since, etag } = pullRead.mark;
      streams[STREAMS.pulls] = { ...(since ? { since } : {}), ...(etag ? { etag } : {}), ...(unreadReviews.length ? { retry: unreadReviews } : {}) };
    }
    if (pullsComplete && reviewCommentRead) streams[STREAMS.reviewComments] = reviewCommentRead.mark;
    results.pulls = outcome(pullDocs, streams, stop, [pullUnread, reviewCommentFailure, reviewsRefused, commentFailure], pullSkips);
  } else if (wanted.pulls && pullFailure) {
    results.pulls = fromFailure(pullFailure);
  } else if (wanted.pulls) {
    // The issue stream stopped the repository before the pull requests were read.
    results.pulls = { state: 'partial', reason: `not read this run: ${issueFailure?.reason ?? 'stopped'}`, documents: new Map() };
  }
  // The comment stream feeds both kinds: its mark (resumable even when the read stopped part-way) moves only once
  // every comment it brought was merged into its record.
  if (commentRead && commentsComplete && (!wanted.pulls || (!pullFailure && pullsComplete))) {
    const owner = (results.issues ?? results.pulls)!;
    owner.streams = { ...owner.streams, [STREAMS.issueComments]: commentRead.mark };
  }
  return results;
}

function normalizeCommentWithParent(api: ApiComment): { comment: Comment; parent: number | null } {
  return { comment: normalizeComment(api), parent: parentNumber(api.issue_url) };
}

async function fetchPull(ctx: CollectContext, n: number): Promise<ApiPull> {
  const answer = await getConditional<ApiPull>(ctx.client, requestKey(`${ctx.repoPath}/pulls/${n}`, {}));
  if (answer.notModified) throw new Error(`pull request #${n} answered 304 to an unconditional request`);
  return answer.data;
}

async function fetchReviews(ctx: CollectContext, n: number): Promise<Review[]> {
  const reviews: Review[] = [];
  for (let page = 1, more = true; more; page++) {
    const answer = await getConditional<ApiReview[]>(ctx.client, requestKey(`${ctx.repoPath}/pulls/${n}/reviews`, { per_page: PER_PAGE, page }));
    if (answer.notModified) break;
    reviews.push(...answer.data.map(normalizeReview));
    more = answer.hasNext && answer.data.length > 0;
  }
  return reviews;
}
