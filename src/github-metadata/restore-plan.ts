// What restore --metadata-to creates, in order, and the text each recreated record carries (docs/RESTORE_RUNBOOK.md
// "Restoring issues, pull requests and releases"). Pure: src/engine/restore-metadata.ts sends the requests.
// Every step has a key, the name under which the mapping of old to new numbers records it, so a second run (or a
// run after a kill) skips what is done; and every body carries a hidden marker with that key, so a record created by
// a request whose answer was lost is found again instead of created twice.
import type { Asset, Comment, Issue, Label, Milestone, Pull, Release, Review, ReviewComment } from './format.ts';
import type { MetadataRecords } from './read.ts';
import { reviewThreads } from './site.ts';

/** GitHub refuses an issue body or comment over 65,536 characters. */
export const MAX_BODY_CHARS = 65_536;

export type RestoreStep =
  | { key: string; kind: 'label'; label: Label }
  | { key: string; kind: 'milestone'; milestone: Milestone }
  /** An issue, or a pull request: recreated as a pull request when its branches exist in the target, else as an issue. */
  | { key: string; kind: 'issue'; issue: Issue; pull: Pull | null; body: string }
  /** A comment on the issue or pull request created by step `parent`: a comment, a review or a review thread. */
  | { key: string; kind: 'comment'; parent: string; body: string }
  /** Labels and milestone (a pull request gets them this way) and the closed state, once its comments are in. */
  | { key: string; kind: 'update'; parent: string; issue: Issue; pull: Pull | null }
  | { key: string; kind: 'release'; release: Release; body: string }
  | { key: string; kind: 'asset'; parent: string; asset: Asset };

/** The hidden line that ties a recreated record to its step (URI-encoded, so `-->` in a name cannot end it early). */
export function restoreMarker(source: string, key: string): string {
  return `<!-- github-private-backup:restored=${encodeURIComponent(`${source}#${key}`)} -->`;
}

const day = (iso: string | null) => (iso ? iso.slice(0, 10) : 'an unknown date');
const by = (login: string | null) => (login === null ? 'a deleted account' : `@${login}`);

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

function issueHeader(issue: Issue, pull: Pull | null): string[] {
  const lines = [`Originally ${pull ? 'pull request ' : ''}#${issue.number} by ${by(issue.author)} on ${day(issue.createdAt)}.`];
  if (pull) {
    const merged = pull.merged ? `; merged on ${day(pull.mergedAt)}${pull.mergeCommitSha ? ` as ${pull.mergeCommitSha.slice(0, 12)}` : ''}` : '';
    lines.push(`From \`${pull.head.ref}\` (${pull.head.sha.slice(0, 12)}) into \`${pull.base.ref}\` (${pull.base.sha.slice(0, 12)})${merged}.`);
  }
  if (issue.closedAt) lines.push(`Closed on ${day(issue.closedAt)}.`);
  if (issue.assignees.length) lines.push(`Assigned to ${issue.assignees.map((a) => `@${a}`).join(', ')}.`);
  return lines;
}

function commentText(comment: Comment, on: number): string[] {
  return [`Originally a comment by ${by(comment.author)} on ${day(comment.createdAt)} on #${on}.`];
}

function reviewText(review: Review, on: number): string[] {
  return [`Originally a review by ${by(review.author)} on ${day(review.submittedAt)} on #${on}: ${review.state.toLowerCase().replace(/_/g, ' ')}.`];
}

function threadText(thread: ReviewComment[], on: number): { header: string[]; text: string } {
  const first = thread[0]!;
  const line = first.line ?? first.originalLine;
  const header = [`Originally a review thread on #${on}, \`${first.path}\`${line === null ? '' : ` line ${line}`}, started by ${by(first.author)} on ${day(first.createdAt)}.`];
  const replies = thread.map((c) => `**${by(c.author)}** on ${day(c.createdAt)}:\n\n${c.body}`);
  return { header, text: [fenced(first.diffHunk, 'diff'), ...replies].join('\n\n') };
}

/** The steps that recreate `records` from `source` (OWNER/NAME), in the order they must run. */
export function planRestore(records: MetadataRecords, source: string): RestoreStep[] {
  const steps: RestoreStep[] = [];
  const body = (key: string, header: string[], text: string | null) => withHeader(header, restoreMarker(source, key), text);
  for (const label of records.labels) steps.push({ key: `label:${label.name}`, kind: 'label', label });
  for (const milestone of records.milestones) steps.push({ key: `milestone:${milestone.number}`, kind: 'milestone', milestone });
  // Issues and pull requests share one sequence of numbers: created in their order, an empty repository gives them
  // their old numbers where there are no gaps.
  const conversations = [...records.issues.map((issue) => ({ issue, pull: null as Pull | null })), ...records.pulls.map((pull) => ({ issue: pull as Issue, pull }))].sort((a, b) => a.issue.number - b.issue.number);
  for (const { issue, pull } of conversations) {
    const parent = `${pull ? 'pull' : 'issue'}:${issue.number}`;
    steps.push({ key: parent, kind: 'issue', issue, pull, body: body(parent, issueHeader(issue, pull), issue.body) });
    for (const comment of issue.comments) {
      const key = `comment:${comment.id}`;
      steps.push({ key, kind: 'comment', parent, body: body(key, commentText(comment, issue.number), comment.body) });
    }
    for (const review of pull?.reviews ?? []) {
      const key = `review:${review.id}`;
      steps.push({ key, kind: 'comment', parent, body: body(key, reviewText(review, issue.number), review.body) });
    }
    for (const thread of reviewThreads(pull?.reviewComments ?? [])) {
      const key = `thread:${thread[0]!.id}`;
      const { header, text } = threadText(thread, issue.number);
      steps.push({ key, kind: 'comment', parent, body: body(key, header, text) });
    }
    steps.push({ key: `update:${parent}`, kind: 'update', parent, issue, pull });
  }
  for (const release of records.releases) {
    const key = `release:${release.id}`;
    const header = [`Originally released by ${by(release.author)} on ${day(release.publishedAt ?? release.createdAt)} (tag \`${release.tagName}\`).`];
    steps.push({ key, kind: 'release', release, body: body(key, header, release.body) });
    for (const asset of release.assets) steps.push({ key: `asset:${asset.id}`, kind: 'asset', parent: key, asset });
  }
  return steps;
}

/** One line saying what a step creates, for --dry-run and the log. */
export function describeStep(step: RestoreStep, asPull?: boolean): string {
  switch (step.kind) {
    case 'label':
      return `label ${JSON.stringify(step.label.name)}`;
    case 'milestone':
      return `milestone ${JSON.stringify(step.milestone.title)} (was ${step.milestone.number})`;
    case 'issue':
      return `${step.pull ? (asPull ? 'pull request' : 'issue for pull request') : 'issue'} #${step.issue.number} ${JSON.stringify(step.issue.title)}`;
    case 'comment':
      return `${step.key.split(':')[0]} ${step.key.split(':')[1]} on ${step.parent.replace(':', ' #')}`;
    case 'update':
      return `${step.issue.state === 'closed' ? 'close' : 'label'} ${step.parent.replace(':', ' #')}`;
    case 'release':
      return `release ${JSON.stringify(step.release.name || step.release.tagName)} (tag ${step.release.tagName})`;
    case 'asset':
      return `asset ${JSON.stringify(step.asset.name)} of ${step.parent.replace(':', ' ')}`;
  }
}
