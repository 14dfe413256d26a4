// What restore --metadata-to creates, in order, and the text each recreated record carries (docs/RESTORE_RUNBOOK.md
// "Restoring issues, pull requests and releases"). Pure: src/engine/restore-metadata.ts sends the requests.
// Every step has a key, the name under which the mapping of old to new numbers records it, so a second run (or a
// run after a kill) skips what is done; and every body carries a hidden marker with that key, so a record created by
// a request whose answer was lost is found again instead of created twice.
import type { Asset, Comment, CommitComment, Issue, Label, Milestone, Pull, Release, Review, ReviewComment } from './format.ts';
import type { MetadataRecords } from './read.ts';
import { authorName, codeSpan, day, reactionSummary } from './restore-text.ts';
import { reviewThreads } from './site.ts';

/** GitHub refuses an issue body or comment over 65,536 characters. */
export const MAX_BODY_CHARS = 65_536;

export type RestoreStep =
  | { key: string; kind: 'label'; label: Label }
  | { key: string; kind: 'milestone'; milestone: Milestone }
  /** An issue, or a pull request: recreated as a pull request when its branches exist in the target, else as an issue. */
  | { key: string; kind: 'issue'; issue: Issue; pull: Pull | null; body: string }
  /** A comment on the issue or pull request created by step `parent`. */
  | { key: string; kind: 'comment'; parent: string; body: string }
  /**
   * A review. On a real pull request whose reviewed commit is in the target: a review (its verdict is in the header:
   * GitHub lets no one approve their own pull request) with `inline`, the threads it started, on their lines. Else a
   * comment.
   */
  | { key: string; kind: 'review'; parent: string; review: Review; inline: InlineComment[]; body: string }
  /**
   * A review thread. Its first comment on its line of the diff (unless its review put it there), the replies then
   * follow as replies; where that cannot be (an issue, the commit gone, GitHub refuses the line), one comment that
   * quotes the path, the diff hunk and every reply (`body`).
   */
  | { key: string; kind: 'thread'; parent: string; root: InlineComment; body: string }
  /** A reply in a thread that is on its line: a reply to the thread's first comment (else `thread`'s comment holds it). */
  | { key: string; kind: 'reply'; parent: string; thread: string; comment: ReviewComment; body: string }
  /** Labels and milestone (a pull request gets them this way) and the closed state, once its comments are in. */
  | { key: string; kind: 'update'; parent: string; issue: Issue; pull: Pull | null }
  /** A locked conversation locked again, after everything else on it is written. */
  | { key: string; kind: 'lock'; parent: string; issue: Issue }
  | { key: string; kind: 'release'; release: Release; body: string }
  | { key: string; kind: 'asset'; parent: string; asset: Asset }
  /** A commit comment, on its commit when the target has it (after restore --push). */
  | { key: string; kind: 'commitComment'; comment: CommitComment; body: string };

export type StepKind = RestoreStep['kind'];

/** Where a review comment goes in the diff: the line it is on now, or for an outdated one the line it was written on. */
export interface Anchor {
  commitId: string;
  path: string;
  line: number;
  side: string;
  /** A comment on a range of lines: where the range starts (before `line`). */
  start?: { line: number; side: string };
}

/** The first comment of a review thread, with the body it is recreated with and its place in the diff (if known). */
export interface InlineComment {
  comment: ReviewComment;
  anchor: Anchor | null;
  body: string;
}

/** The journal key that says a thread's first comment is on its line (its id, to reply to). */
export const placedKey = (threadKey: string): string => `placed:${threadKey}`;

export function anchorOf(c: ReviewComment): Anchor | null {
  const side = c.side === 'LEFT' ? 'LEFT' : 'RIGHT';
  const range = (line: number, startLine: number | null | undefined): Pick<Anchor, 'start'> =>
    typeof startLine === 'number' && startLine < line ? { start: { line: startLine, side: c.startSide === 'LEFT' ? 'LEFT' : c.startSide === 'RIGHT' ? 'RIGHT' : side } } : {};
  if (c.line !== null) return { commitId: c.commitId, path: c.path, line: c.line, side, ...range(c.line, c.startLine) };
  if (c.originalLine !== null) return { commitId: c.originalCommitId, path: c.path, line: c.originalLine, side, ...range(c.originalLine, c.originalStartLine) };
  return null;
}

/** The hidden line that ties a recreated record to its step (URI-encoded, so `-->` in a name cannot end it early). */
export function restoreMarker(source: string, key: string): string {
  return `<!-- github-private-backup:restored=${encodeURIComponent(`${source}#${key}`)} -->`;
}

/** A fence longer than any run of backticks in `text`, so a diff hunk cannot close it. */
function fenced(text: string, lang: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${lang}\n${text}\n${fence}`;
}

/** Header lines, the marker, then the text; the text is cut (and says so) where GitHub's limit would refuse it. */
export function withHeader(header: string[], marker: string, text: string | null): string {
  const head = `${header.map((l) => `> ${l}`).join('\n>\n')}\n${marker}\n\n`;
  const body = text ?? '';
  if (head.length + body.length <= MAX_BODY_CHARS) return head + body;
  const note = '\n\n*(cut to fit GitHub\'s limit: the whole text is in the backup)*';
  return head + body.slice(0, MAX_BODY_CHARS - head.length - note.length) + note;
}

/** The words of every header: original authors named on `serverUrl` without a mention (src/github-metadata/restore-text.ts). */
class Headers {
  constructor(private readonly serverUrl: string) {}

  by(login: string | null): string {
    return authorName(login, this.serverUrl);
  }

  issue(issue: Issue, pull: Pull | null): string[] {
    const lines = [`Originally ${pull ? 'pull request ' : ''}#${issue.number} by ${this.by(issue.author)} on ${day(issue.createdAt)}${reactionSummary(issue.reactions)}.`];
    if (pull) {
      const merged = pull.merged ? `; merged on ${day(pull.mergedAt)}${pull.mergeCommitSha ? ` as ${pull.mergeCommitSha.slice(0, 12)}` : ''}` : '';
      lines.push(`From ${codeSpan(pull.head.ref)} (${pull.head.sha.slice(0, 12)}) into ${codeSpan(pull.base.ref)} (${pull.base.sha.slice(0, 12)})${merged}.`);
    }
    if (issue.closedAt) lines.push(`Closed on ${day(issue.closedAt)}.`);
    if (issue.assignees.length) lines.push(`Assigned to ${issue.assignees.map((a) => this.by(a)).join(', ')}.`);
    return lines;
  }

  comment(comment: Comment, on: number): string[] {
    return [`Originally a comment by ${this.by(comment.author)} on ${day(comment.createdAt)} on #${on}${reactionSummary(comment.reactions)}.`];
  }

  review(review: Review, on: number): string[] {
    return [`Originally a review by ${this.by(review.author)} on ${day(review.submittedAt)} on #${on}: ${review.state.toLowerCase().replace(/_/g, ' ')}.`];
  }

  reviewComment(comment: ReviewComment, what: string): string[] {
    return [`Originally ${what} by ${this.by(comment.author)} on ${day(comment.createdAt)}${reactionSummary(comment.reactions)}.`];
  }

  /** The fallback: one comment with the path, the diff hunk and every comment of the thread, each named. */
  thread(thread: ReviewComment[], on: number): { header: string[]; text: string } {
    const first = thread[0]!;
    const line = first.line ?? first.originalLine;
    const header = [`Originally a review thread on #${on}, ${codeSpan(first.path)}${line === null ? '' : ` line ${line}`}, started by ${this.by(first.author)} on ${day(first.createdAt)}.`];
    const replies = thread.map((c) => `**${this.by(c.author)}** on ${day(c.createdAt)}${reactionSummary(c.reactions)}:\n\n${c.body}`);
    return { header, text: [fenced(first.diffHunk, 'diff'), ...replies].join('\n\n') };
  }

  commitComment(comment: CommitComment): string[] {
    const where = comment.path === null ? '' : `, ${codeSpan(comment.path)}${comment.line === null ? '' : ` line ${comment.line}`}`;
    return [`Originally a comment by ${this.by(comment.author)} on ${day(comment.createdAt)} on commit ${comment.commitId.slice(0, 12)}${where}${reactionSummary(comment.reactions)}.`];
  }

  release(release: Release): string[] {
    return [`Originally released by ${this.by(release.author)} on ${day(release.publishedAt ?? release.createdAt)} (tag ${codeSpan(release.tagName)}).`];
  }
}

/** The review and thread steps of a pull request's reviews, in order: reviews (with the threads they started), threads, replies. */
function reviewSteps(pull: Pull, parent: string, headers: Headers, body: (key: string, header: string[], text: string | null) => string): RestoreStep[] {
  const threads = reviewThreads(pull.reviewComments).map((thread) => {
    const root = thread[0]!;
    const key = `thread:${root.id}`;
    const inline: InlineComment = { comment: root, anchor: anchorOf(root), body: body(key, headers.reviewComment(root, 'a review comment'), root.body) };
    const fallback = headers.thread(thread, pull.number);
    return { key, thread, inline, fallback: body(key, fallback.header, fallback.text) };
  });
  const steps: RestoreStep[] = [];
  for (const review of pull.reviews) {
    // A review places the threads it started on the commit it reviewed; one started on another commit is placed alone.
    const inline = threads.filter((t) => t.inline.comment.reviewId === review.id && t.inline.anchor?.commitId === review.commitId).map((t) => t.inline);
    const started = threads.some((t) => t.inline.comment.reviewId === review.id);
    // GitHub files each reply under a review of its own, empty and "commented": the reply step recreates the reply.
    if (!review.body && review.state === 'COMMENTED' && !started) continue;
    const key = `review:${review.id}`;
    steps.push({ key, kind: 'review', parent, review, inline, body: body(key, headers.review(review, pull.number), review.body) });
  }
  for (const t of threads) steps.push({ key: t.key, kind: 'thread', parent, root: t.inline, body: t.fallback });
  for (const t of threads) {
    for (const comment of t.thread.slice(1)) {
      const key = `reply:${comment.id}`;
      steps.push({ key, kind: 'reply', parent, thread: t.key, comment, body: body(key, headers.reviewComment(comment, 'a reply'), comment.body) });
    }
  }
  return steps;
}

/** The steps that recreate `records` from `source` (OWNER/NAME, on `serverUrl`), in the order they must run. */
export function planRestore(records: MetadataRecords, source: string, serverUrl: string): RestoreStep[] {
  const steps: RestoreStep[] = [];
  const headers = new Headers(serverUrl);
  const body = (key: string, header: string[], text: string | null) => withHeader(header, restoreMarker(source, key), text);
  for (const label of records.labels) steps.push({ key: `label:${label.name}`, kind: 'label', label });
  for (const milestone of records.milestones) steps.push({ key: `milestone:${milestone.number}`, kind: 'milestone', milestone });
  // Issues and pull requests share one sequence of numbers: created in their order, an empty repository gives them
  // their old numbers where there are no gaps.
  const conversations = [...records.issues.map((issue) => ({ issue, pull: null as Pull | null })), ...records.pulls.map((pull) => ({ issue: pull as Issue, pull }))].sort((a, b) => a.issue.number - b.issue.number);
  for (const { issue, pull } of conversations) {
    const parent = `${pull ? 'pull' : 'issue'}:${issue.number}`;
    steps.push({ key: parent, kind: 'issue', issue, pull, body: body(parent, headers.issue(issue, pull), issue.body) });
    for (const comment of issue.comments) {
      const key = `comment:${comment.id}`;
      steps.push({ key, kind: 'comment', parent, body: body(key, headers.comment(comment, issue.number), comment.body) });
    }
    if (pull) steps.push(...reviewSteps(pull, parent, headers, body));
    steps.push({ key: `update:${parent}`, kind: 'update', parent, issue, pull });
    // Locked last: on a locked conversation only collaborators may write, and nothing is left to write.
    if (issue.locked) steps.push({ key: `lock:${parent}`, kind: 'lock', parent, issue });
  }
  for (const release of records.releases) {
    const key = `release:${release.id}`;
    steps.push({ key, kind: 'release', release, body: body(key, headers.release(release), release.body) });
    for (const asset of release.assets) steps.push({ key: `asset:${asset.id}`, kind: 'asset', parent: key, asset });
  }
  for (const comment of records.commitComments) {
    const key = `commit-comment:${comment.id}`;
    steps.push({ key, kind: 'commitComment', comment, body: body(key, headers.commitComment(comment), comment.body) });
  }
  return steps;
}

const on = (parent: string) => parent.replace(':', ' #');

/** One line saying what a step creates, for --dry-run and the log; `how` says in which form, where that varies. */
export function describeStep(step: RestoreStep, how?: { asPull?: boolean; as?: string }): string {
  const as = how?.as ? ` (${how.as})` : '';
  switch (step.kind) {
    case 'label':
      return `label ${JSON.stringify(step.label.name)}`;
    case 'milestone':
      return `milestone ${JSON.stringify(step.milestone.title)} (was ${step.milestone.number})`;
    case 'issue':
      return `${step.pull ? (how?.asPull ? 'pull request' : 'issue for pull request') : 'issue'} #${step.issue.number} ${JSON.stringify(step.issue.title)}`;
    case 'comment':
      return `comment ${step.key.split(':')[1]} on ${on(step.parent)}`;
    case 'review':
      return `review ${step.review.id} on ${on(step.parent)}${as}`;
    case 'thread':
      return `review thread ${step.root.comment.id} on ${on(step.parent)}, ${JSON.stringify(step.root.comment.path)}${as}`;
    case 'reply':
      return `reply ${step.comment.id} in review thread ${step.thread.split(':')[1]} on ${on(step.parent)}`;
    case 'update':
      return `${step.issue.state === 'closed' ? 'close' : 'label'} ${on(step.parent)}`;
    case 'lock':
      return `lock ${on(step.parent)}`;
    case 'release':
      return `release ${JSON.stringify(step.release.name || step.release.tagName)} (tag ${step.release.tagName})`;
    case 'asset':
      return `asset ${JSON.stringify(step.asset.name)} of ${step.parent.replace(':', ' ')}`;
    case 'commitComment':
      return `commit comment ${step.comment.id} on ${step.comment.commitId.slice(0, 12)}${as}`;
  }
}
